// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VaultFixture} from "./utils/VaultFixture.sol";
import {MorphoOracleAdapter} from "../src/MorphoOracleAdapter.sol";
import {ValuationOracle} from "../src/ValuationOracle.sol";
import {ICollateralOracle} from "../src/interfaces/ICollateralOracle.sol";
import {Errors} from "../src/Errors.sol";
import {IMorpho, MarketParams} from "@morpho-org/morpho-blue/src/interfaces/IMorpho.sol";
import {MarketParamsLib} from "@morpho-org/morpho-blue/src/libraries/MarketParamsLib.sol";

/// @notice Issue 20 item 2 on a REAL Morpho Blue market: Morpho Blue 1.0.0's own code (the npm
/// package of morpho-org, compiled by install-tools.sh with solc 0.8.19 and Morpho's production
/// settings) lending AID against real sAID, priced by the signed ValuationOracle. Two markets
/// differ only in their `oracle`: `fresh` reads the MorphoOracleAdapter (fail closed), `raw`
/// reads the ValuationOracle directly (the old reading, kept to show why it must not be used).
contract MorphoOracleAdapterTest is VaultFixture {
    using MarketParamsLib for MarketParams;

    string internal constant MORPHO_ARTIFACT = "../.tools/morpho-blue/Morpho.json";
    uint256 internal constant LLTV = 0.86e18;
    uint256 internal constant PRICE_SCALE = 1e36;
    uint256 internal constant COLLATERAL = 100e24; // 100 sAID at NAV 1 = 100 AID

    IMorpho internal morpho;
    MorphoOracleAdapter internal adapter;
    MarketParams internal fresh;
    MarketParams internal raw;
    address internal liquidator = address(0x11D);

    function setUp() public {
        _setUpVault();
        adapter = new MorphoOracleAdapter(oracle);
        morpho = IMorpho(_deployMorpho(address(this)));
        morpho.enableIrm(address(0)); // zero-rate markets (Morpho supports irm = 0)
        morpho.enableLltv(LLTV);
        fresh = MarketParams(address(aid), address(vault), address(adapter), address(0), LLTV);
        raw = MarketParams(address(aid), address(vault), address(oracle), address(0), LLTV);
        morpho.createMarket(fresh);
        morpho.createMarket(raw);
        // desk lends 1M AID in each market; alice posts 100 sAID in each.
        aid.mint(desk, 2_000_000e18);
        aid.mint(liquidator, 1_000_000e18);
        _deposit(alice, 3 * COLLATERAL / 1e6); // one more lot for testStaleMarketTakes…
        _approveMorpho(desk);
        _approveMorpho(liquidator);
        _approveMorpho(alice);
        vm.startPrank(desk);
        morpho.supply(fresh, 1_000_000e18, 0, desk, "");
        morpho.supply(raw, 1_000_000e18, 0, desk, "");
        vm.stopPrank();
        vm.startPrank(alice);
        morpho.supplyCollateral(fresh, COLLATERAL, alice, "");
        morpho.supplyCollateral(raw, COLLATERAL, alice, "");
        vm.stopPrank();
    }

    /// @dev Deploys Morpho Blue's creation code (solc 0.8.19 build) with `owner`.
    function _deployMorpho(address owner) internal returns (address m) {
        bytes memory code = vm.parseJsonBytes(vm.readFile(MORPHO_ARTIFACT), ".bytecode.object");
        bytes memory init = abi.encodePacked(code, abi.encode(owner));
        assembly ("memory-safe") {
            m := create(0, add(init, 0x20), mload(init))
        }
        require(m != address(0) && m.code.length > 0, "Morpho Blue deployment failed");
    }

    function _approveMorpho(address who) internal {
        vm.startPrank(who);
        aid.approve(address(morpho), type(uint256).max);
        vault.approve(address(morpho), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Morpho's own borrow limit of `collateral` at `price`.
    function _limit(uint256 collateral, uint256 price) internal pure returns (uint256) {
        return collateral * price / PRICE_SCALE * LLTV / 1e18;
    }

    function _borrow(MarketParams memory mp, address who, uint256 assets) internal {
        vm.prank(who);
        morpho.borrow(mp, assets, 0, who, who);
    }

    function _notFresh() internal view returns (bytes memory) {
        return abi.encodeWithSelector(Errors.OracleNotFresh.selector, address(oracle), block.timestamp);
    }

    // ------------------------------------------------------------------ the adapter alone

    function testConstructorRejectsZeroOracle() public {
        vm.expectRevert(Errors.ZeroAddress.selector);
        new MorphoOracleAdapter(ICollateralOracle(address(0)));
    }

    function testNoReportYetIsNotFresh() public {
        ValuationOracle empty = _deployOracle(18, 24);
        MorphoOracleAdapter a = new MorphoOracleAdapter(empty);
        vm.expectRevert(abi.encodeWithSelector(Errors.OracleNotFresh.selector, address(empty), block.timestamp));
        a.price();
    }

    /// @dev Loan decimals 0, collateral decimals 36: price = NAV / 1e18, 0 for a NAV below 1.
    function testZeroPriceWhileFreshReverts() public {
        ValuationOracle o = _deployOracle(0, 36);
        _push(o, 0.5e18, 0);
        assertTrue(o.isFresh());
        assertEq(o.price(), 0);
        MorphoOracleAdapter a = new MorphoOracleAdapter(o);
        vm.expectRevert(abi.encodeWithSelector(Errors.ZeroOraclePrice.selector, address(o)));
        a.price();
    }

    /// @dev While fresh the adapter is exactly the oracle's price, to the last second.
    function testFuzzFreshPriceIsTheOraclePrice(uint256 nav, uint256 age) public {
        nav = bound(nav, 0.5e18, 2e18);
        _push(oracle, nav, 0);
        age = bound(age, 0, oracle.staleAt() - block.timestamp);
        vm.warp(block.timestamp + age);
        assertEq(adapter.price(), oracle.price());
        assertEq(adapter.price(), nav * 1e12);
    }

    function testLastFreshSecondPricesAndTheNextReverts() public {
        vm.warp(oracle.staleAt());
        assertEq(adapter.price(), 1e30);
        _borrow(fresh, alice, _limit(COLLATERAL, 1e30));
        vm.warp(block.timestamp + 1);
        vm.expectRevert(_notFresh());
        adapter.price();
    }

    // ------------------------------------------------------------------ on Morpho Blue

    /// @dev The issue's case: one second after expiry the old reading still lends at
    /// 99.9998 % of the old limit; the adapter's market refuses any borrow.
    function testOneSecondStaleMorphoBorrowRevertsThroughTheAdapter() public {
        uint256 oldLimit = _limit(COLLATERAL, oracle.price());
        vm.warp(oracle.staleAt() + 1);
        vm.prank(alice);
        vm.expectRevert(_notFresh());
        morpho.borrow(fresh, 1, 0, alice, alice);
        // the raw reading: decayed by 1/604800 only, Morpho lends as if the report were fresh
        _borrow(raw, alice, oldLimit * 999_998 / 1_000_000);
        assertEq(aid.balanceOf(alice), oldLimit * 999_998 / 1_000_000);
    }

    /// @dev However late the report and whatever the amounts, a market on the adapter neither
    /// lends, nor releases collateral against debt, nor liquidates.
    function testFuzzStaleReportBlocksBorrowWithdrawAndLiquidation(uint256 late, uint256 amount, uint256 seized)
        public
    {
        _borrow(fresh, alice, _limit(COLLATERAL, oracle.price()) / 2);
        late = bound(late, 1, 3650 days);
        vm.warp(oracle.staleAt() + late);
        bytes memory notFresh = _notFresh();

        vm.prank(alice);
        vm.expectRevert(notFresh);
        morpho.borrow(fresh, bound(amount, 1, 1_000_000e18), 0, alice, alice);

        vm.prank(alice);
        vm.expectRevert(notFresh);
        morpho.withdrawCollateral(fresh, bound(amount, 1, COLLATERAL), alice, alice);

        vm.prank(liquidator);
        vm.expectRevert(notFresh);
        morpho.liquidate(fresh, alice, bound(seized, 1, COLLATERAL), 0, "");
    }

    /// @dev What keeps working while stale: nothing of it reads a price.
    function testStaleMarketTakesRepaymentsCollateralAndLenderWithdrawals() public {
        uint256 borrowed = _limit(COLLATERAL, oracle.price()) / 2;
        _borrow(fresh, alice, borrowed);
        vm.warp(oracle.staleAt() + 1 days);
        vm.startPrank(alice);
        morpho.repay(fresh, borrowed / 2, 0, alice, "");
        morpho.supplyCollateral(fresh, COLLATERAL, alice, "");
        vm.stopPrank();
        vm.prank(desk);
        morpho.withdraw(fresh, 1_000e18, 0, desk, desk);
        assertEq(morpho.position(fresh.id(), alice).collateral, 2 * COLLATERAL);
        assertEq(aid.balanceOf(desk), 1_000e18);
    }

    /// @dev Recovery: the next fresh report re-opens the market at the NAV it reports; a
    /// mark-down makes the position at the old limit liquidatable at the new, reported price.
    function testFreshReportRestoresLiquidationAtTheReportedNav() public {
        _borrow(fresh, alice, _limit(COLLATERAL, oracle.price()));
        vm.warp(oracle.staleAt() + 3 days);
        vm.prank(liquidator);
        vm.expectRevert(_notFresh());
        morpho.liquidate(fresh, alice, COLLATERAL / 10, 0, "");

        _push(oracle, 0.9e18, 0); // the signers' next report: NAV marked down 10 %
        assertEq(adapter.price(), 0.9e30);
        uint256 before = aid.balanceOf(liquidator);
        vm.prank(liquidator);
        (uint256 seizedAssets, uint256 repaid) = morpho.liquidate(fresh, alice, COLLATERAL / 10, 0, "");
        assertEq(seizedAssets, COLLATERAL / 10);
        // repaid = seized * price / 1e36 / incentive (1.0438... at LLTV 0.86), rounded up
        uint256 atNav = COLLATERAL / 10 * 0.9e30 / PRICE_SCALE;
        assertLt(repaid, atNav);
        assertGt(repaid, atNav * 95 / 100);
        assertEq(before - aid.balanceOf(liquidator), repaid);
    }

    /// @dev Recovery: a fresh report at the same NAV lets the same borrower borrow again.
    function testFreshReportRestoresBorrowing() public {
        vm.warp(oracle.staleAt() + 1);
        vm.prank(alice);
        vm.expectRevert(_notFresh());
        morpho.borrow(fresh, 1e18, 0, alice, alice);
        _push(oracle, 1e18, 0);
        _borrow(fresh, alice, 1e18);
        assertEq(aid.balanceOf(alice), 1e18);
    }

    /// @dev Why the decaying reading is no liquidation price for Morpho either: once decayed, a
    /// liquidator seizes collateral far below its last reported value (all of it for nothing at
    /// the end of the decay, the debt socialised to lenders as bad debt). The adapter refuses.
    function testDecayedRawPriceGivesCollateralAwayTheAdapterRefuses() public {
        uint256 borrowed = _limit(COLLATERAL, oracle.price()) / 2;
        _borrow(raw, alice, borrowed);
        _borrow(fresh, alice, borrowed);
        vm.warp(oracle.staleAt() + oracle.stalePriceDecay());
        assertEq(oracle.price(), 0);

        vm.prank(liquidator);
        vm.expectRevert(_notFresh());
        morpho.liquidate(fresh, alice, COLLATERAL, 0, "");

        vm.prank(liquidator);
        (uint256 seizedAssets, uint256 repaid) = morpho.liquidate(raw, alice, COLLATERAL, 0, "");
        assertEq(seizedAssets, COLLATERAL);
        assertEq(repaid, 0);
        assertEq(vault.balanceOf(liquidator), COLLATERAL); // 100 AID of sAID for 0 AID
        assertEq(morpho.market(raw.id()).totalSupplyAssets, 1_000_000e18 - borrowed); // bad debt
        assertGt(morpho.position(fresh.id(), alice).borrowShares, 0);
    }
}
