// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICollateralOracle} from "../interfaces/ICollateralOracle.sol";

/// @title MockCollateralOracle
/// @notice Settable price/LTV source for tests (e.g. a zero price). NOT for production.
contract MockCollateralOracle is ICollateralOracle {
    uint256 public price;
    uint16 public ltvBps;
    /// @notice When true, `isFresh()` is false.
    bool public stale;

    /// @notice Whether the price counts as fresh.
    /// @return !stale.
    function isFresh() external view returns (bool) {
        return !stale;
    }

    /// @notice Marks the price stale (or fresh again).
    /// @param stale_ True for stale.
    function setStale(bool stale_) external {
        stale = stale_;
    }

    /// @notice Sets the price (1e36-scaled) and LTV.
    /// @param price_ The price.
    /// @param ltvBps_ The LTV in bps.
    function set(uint256 price_, uint16 ltvBps_) external {
        price = price_;
        ltvBps = ltvBps_;
    }
}
