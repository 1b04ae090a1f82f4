// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOracle} from "./IOracle.sol";

/// @notice What {LendingMarket} reads from a collateral oracle: a Morpho-style `price()`
/// (1e36-scaled) and the published loan-to-value in bps. {ValuationOracle} implements it; both
/// reads revert when its report is missing or stale.
interface ICollateralOracle is IOracle {
    /// @notice Loan-to-value of the collateral in bps.
    function ltvBps() external view returns (uint16);
}
