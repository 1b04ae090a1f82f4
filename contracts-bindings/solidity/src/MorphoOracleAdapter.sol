// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOracle} from "./interfaces/IOracle.sol";
import {ICollateralOracle} from "./interfaces/ICollateralOracle.sol";
import {Errors} from "./Errors.sol";

/// @title MorphoOracleAdapter
/// @notice The fail-closed reading of a gaib collateral oracle for Morpho Blue markets: the
/// market's `oracle` is this adapter, never the ValuationOracle itself.
///
/// `price()` is the wrapped oracle's `price()` (1e36-scaled, Morpho's `IOracle`) while its latest
/// report is fresh (`isFresh()`), and reverts `OracleNotFresh` once the report is stale (or
/// before the first one), and `ZeroOraclePrice` on a zero price.
///
/// Why. Morpho Blue reads one price for `borrow`, `withdrawCollateral` (with debt) and
/// `liquidate`, and has no staleness check of its own. The ValuationOracle's own `price()` does
/// not revert when stale: it decays slowly to zero (the liquidation reading of gaib's
/// LendingMarket, which gates borrowing with `isFresh()` separately), so a Morpho market
/// pointed at it lets anyone borrow against a stale report (one second late: 99.9998 % of the
/// old price), and once fully decayed lets a liquidator seize collateral for nothing.
///
/// Trade-off. While the report is stale, a market using this adapter blocks borrowing,
/// withdrawing collateral against debt, AND liquidations; supplying and withdrawing loan
/// tokens (up to the unborrowed liquidity), supplying collateral and repaying keep working (Morpho
/// reads no price for them). Liquidations resume at the next fresh report, priced at the NAV
/// it reports. See docs/ONCHAIN.md, "Which reading each integration must use".
contract MorphoOracleAdapter is IOracle {
    /// @notice The wrapped oracle (a ValuationOracle).
    ICollateralOracle public immutable source;

    /// @param source_ The collateral oracle to wrap (its `price()` must already be scaled for
    /// the market's loan and collateral decimals).
    constructor(ICollateralOracle source_) {
        if (address(source_) == address(0)) revert Errors.ZeroAddress();
        source = source_;
    }

    /// @inheritdoc IOracle
    /// @dev The source's `price()` if its latest report is fresh now and the price is non-zero;
    /// reverts `OracleNotFresh(source, block.timestamp)` or `ZeroOraclePrice(source)` otherwise.
    function price() external view returns (uint256 p) {
        if (!source.isFresh()) revert Errors.OracleNotFresh(address(source), block.timestamp);
        p = source.price();
        if (p == 0) revert Errors.ZeroOraclePrice(address(source));
    }
}
