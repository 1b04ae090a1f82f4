// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Morpho Blue's oracle interface.
interface IOracle {
    /// @notice Price of 1 unit of collateral token in loan-token units, scaled by 1e36, i.e.
    /// price = NAV * 10^(36 + loanDecimals - collateralDecimals).
    function price() external view returns (uint256);
}
