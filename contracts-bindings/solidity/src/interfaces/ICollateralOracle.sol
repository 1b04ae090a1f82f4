// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOracle} from "./IOracle.sol";

/// @notice What {LendingMarket} reads from a collateral oracle: a Morpho-style `price()`
/// (1e36-scaled), the published loan-to-value in bps and whether the report is fresh.
/// {ValuationOracle} implements it: once its report is stale `price()` decays towards zero
/// (conservative, for liquidations) and `isFresh()` is false (no new borrowing).
interface ICollateralOracle is IOracle {
    /// @notice Loan-to-value of the collateral in bps.
    function ltvBps() external view returns (uint16);

    /// @notice Whether the price is backed by a fresh report now.
    function isFresh() external view returns (bool);
}
