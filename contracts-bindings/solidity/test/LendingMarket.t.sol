// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VaultFixture} from "./utils/VaultFixture.sol";
import {LendingMarket} from "../src/LendingMarket.sol";
import {ValuationOracle, ValuationReport} from "../src/ValuationOracle.sol";
import {ICollateralOracle} from "../src/interfaces/ICollateralOracle.sol";
import {MockCollateralOracle} from "../src/test-helpers/MockCollateralOracle.sol";
import {Errors} from "../src/Errors.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

contract LendingMarketTest is VaultFixture {
    LendingMarket internal market;
    address internal liquidator = address(0x11D);

    function setUp() public {
        _setUpVault();
        market = new LendingMarket(vault, aid, oracle);
        aid.mint(address(market), 1_000_000e18);
        // alice: 100 AID -> 100e24 sAID, all posted as collateral
        _deposit(alice, 100e18);
        vm.startPrank(alice);
        vault.approve(address(market), type(uint256).max);
        market.depositCollateral(100e24, alice);
        vm.stopPrank();
        aid.mint(liquidator, 1_000_000e18);
        vm.prank(liquidator);
        aid.approve(address(market), type(uint256).max);
    }

    /// @dev Publishes nav/ltv through the real signed oracle (guardian-approved if needed).
    function _mark(uint256 nav, uint16 ltv) internal {
        ValuationReport memory r = _report(oracle.latestRound() + 1, nav, oracle.latestReport().deployedValue);
        r.ltvBps = ltv;
        bytes32 d = oracle.digest(r);
        vm.prank(admin);
        oracle.approveReport(d, true);
        _submit(oracle, r);
    }

    function testPriceIsNavScaledForSaidInAid() public view {
        assertEq(oracle.price(), 1e30); // nav 1e18 * 10^(18 + 18 - 24)
        assertEq(market.borrowLimit(100e24), 80e18);
    }

    function testBorrowAtLimitPasses() public {
        vm.prank(alice);
        market.borrow(80e18, alice);
        assertEq(market.debtOf(alice), 80e18);
        assertEq(aid.balanceOf(alice), 80e18);
        assertFalse(market.isLiquidatable(alice));
    }

    function testBorrowOneWeiAboveLimitFails() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.BorrowLimitExceeded.selector, 80e18 + 1, 80e18));
        market.borrow(80e18 + 1, alice);
        vm.prank(alice);
        market.borrow(80e18 - 1, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.BorrowLimitExceeded.selector, 80e18 + 1, 80e18));
        market.borrow(2, alice);
    }

    function testFuzzBorrowLimitBoundary(uint256 collateral, uint256 nav, uint16 ltv) public {
        collateral = bound(collateral, 1, 100e24);
        nav = bound(nav, 0.5e18, 2e18);
        ltv = uint16(bound(ltv, 1, 10_000));
        _mark(nav, ltv);
        uint256 limit = Math.mulDiv(Math.mulDiv(collateral, nav * 1e12, 1e36), ltv, 10_000);
        assertEq(market.borrowLimit(collateral), limit);
        vm.prank(alice);
        market.withdrawCollateral(100e24 - collateral, alice);
        if (limit > 0) {
            uint256 snap = vm.snapshotState();
            vm.prank(alice);
            market.borrow(limit, alice);
            vm.revertToState(snap);
        }
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.BorrowLimitExceeded.selector, limit + 1, limit));
        market.borrow(limit + 1, alice);
    }

    function testBorrowFailsClosedWhenPriceStale() public {
        vm.warp(T0 + 1 days + 1);
        vm.prank(alice);
        vm.expectRevert(Errors.StalePrice.selector);
        market.borrow(1, alice);
        vm.expectRevert(Errors.StalePrice.selector);
        market.borrowLimit(1e24);
    }

    function testBorrowFailsClosedWhenPriceZero() public {
        MockCollateralOracle mock = new MockCollateralOracle();
        mock.set(0, 8_000);
        LendingMarket m = new LendingMarket(vault, aid, ICollateralOracle(address(mock)));
        aid.mint(address(m), 1e24);
        _deposit(bob, 10e18);
        vm.startPrank(bob);
        vault.approve(address(m), type(uint256).max);
        m.depositCollateral(10e24, bob);
        vm.expectRevert(Errors.ZeroPrice.selector);
        m.borrow(1, bob);
        vm.stopPrank();
        mock.set(1e30, 8_000);
        vm.prank(bob);
        m.borrow(8e18, bob);
    }

    function testLiquidateRevertsAtHealthExactlyOne() public {
        vm.prank(alice);
        market.borrow(80e18, alice);
        vm.prank(liquidator);
        vm.expectRevert(abi.encodeWithSelector(Errors.PositionHealthy.selector, 80e18, 80e18));
        market.liquidate(alice);
    }

    function testLiquidatePassesJustBelowHealthOne() public {
        vm.prank(alice);
        market.borrow(80e18, alice);
        _mark(1e18 - 1, 8_000); // price 1e30 - 1e12: limit = (100e18 - 100) * 0.8 = 80e18 - 80
        assertEq(market.borrowLimit(100e24), 80e18 - 80);
        assertTrue(market.isLiquidatable(alice));
        vm.prank(liquidator);
        (uint256 debt, uint256 coll) = market.liquidate(alice);
        assertEq(debt, 80e18);
        assertEq(coll, 100e24);
        assertEq(vault.balanceOf(liquidator), 100e24);
        assertEq(market.debtOf(alice), 0);
        assertEq(market.collateralOf(alice), 0);
    }

    function testLiquidateStaysPossibleWhileReportIsLateAndBorrowingIsNot() public {
        vm.prank(alice);
        market.borrow(40e18, alice); // health 2 at the fresh price
        // validUntil = T0 + 1 day; the price then decays linearly to 0 over stalePriceDecay (7 d)
        vm.warp(T0 + 1 days + 1 days);
        assertEq(oracle.price(), uint256(1e18) * 6 / 7 * 1e12, "1/7 decayed after a day");
        assertFalse(market.isLiquidatable(alice));
        vm.prank(alice);
        vm.expectRevert(Errors.StalePrice.selector);
        market.borrow(1, alice);
        vm.prank(alice);
        vm.expectRevert(Errors.StalePrice.selector);
        market.withdrawCollateral(1, alice);
        vm.prank(liquidator);
        vm.expectPartialRevert(Errors.PositionHealthy.selector);
        market.liquidate(alice);
        // limit 80 * (1 - late / 7 d) < 40 once more than 3.5 days late
        vm.warp(T0 + 1 days + 3.5 days + 1);
        assertTrue(market.isLiquidatable(alice));
        vm.prank(liquidator);
        (uint256 debt, uint256 coll) = market.liquidate(alice);
        assertEq(debt, 40e18);
        assertEq(coll, 100e24);
    }

    function testFullyDecayedPriceIsZeroAndEveryDebtLiquidatable() public {
        vm.prank(alice);
        market.borrow(1, alice);
        vm.warp(T0 + 1 days + 7 days);
        assertEq(oracle.price(), 0);
        assertEq(market.liquidationLimit(100e24), 0);
        assertTrue(market.isLiquidatable(alice));
        vm.prank(liquidator);
        market.liquidate(alice);
        assertEq(market.debtOf(alice), 0);
    }

    function testZeroPriceFromOracleMakesDebtLiquidatable() public {
        MockCollateralOracle mock = new MockCollateralOracle();
        mock.set(1e30, 8_000);
        LendingMarket m = new LendingMarket(vault, aid, ICollateralOracle(address(mock)));
        aid.mint(address(m), 1e24);
        _deposit(bob, 10e18);
        vm.startPrank(bob);
        vault.approve(address(m), type(uint256).max);
        m.depositCollateral(10e24, bob);
        m.borrow(1e18, bob);
        vm.stopPrank();
        mock.set(0, 8_000);
        mock.setStale(true);
        assertTrue(m.isLiquidatable(bob));
        vm.prank(liquidator);
        aid.approve(address(m), type(uint256).max);
        vm.prank(liquidator);
        m.liquidate(bob);
        assertEq(m.debtOf(bob), 0);
    }

    function testCollateralWithMoreThan18PlusLoanDecimals() public {
        // collateral with 30 decimals priced in a 6-decimal loan token: 10^(18 + 6 - 30) = 1e-6
        ValuationOracle o = _deployOracle(6, 30);
        _submit(o, _report(1, 1.5e18, 0));
        assertEq(o.priceScale(), 1);
        assertEq(o.priceDivisor(), 1e6);
        assertEq(o.price(), 1.5e12); // 1.5 loan units (1.5e6) per 1e30 collateral units, x 1e36 / 1e30
        MockCollateralOracle mock = new MockCollateralOracle();
        mock.set(o.price(), 8_000);
        LendingMarket m = new LendingMarket(vault, aid, ICollateralOracle(address(mock)));
        // 2 whole collateral tokens (2e30 units) -> 3 loan tokens (3e6) x 80 % = 2.4e6
        assertEq(m.borrowLimit(2e30), 2.4e6);
    }

    function testWithdrawCollateralMustStayWithinLimit() public {
        vm.prank(alice);
        market.borrow(40e18, alice);
        vm.prank(alice);
        market.withdrawCollateral(50e24, alice); // limit 40e18 == debt
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.BorrowLimitExceeded.selector, 40e18, 40e18 - 2));
        market.withdrawCollateral(1e6 + 1, alice);
    }

    function testRepayReducesDebt() public {
        vm.startPrank(alice);
        market.borrow(50e18, alice);
        aid.approve(address(market), type(uint256).max);
        market.repay(20e18, alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.RepayExceedsDebt.selector, 31e18, 30e18));
        market.repay(31e18, alice);
        vm.stopPrank();
        assertEq(market.debtOf(alice), 30e18);
        assertEq(market.totalDebt(), 30e18);
    }

    function testEndToEndSignedReportMovesVaultNavAndLendingPrice() public {
        // the off-chain book earns 4 %: both the vault (deployed value) and the lending price move
        vm.warp(T0 + 1 hours);
        vm.prank(admin);
        vault.deployCapital(desk, 50e18);
        ValuationReport memory r = _report(oracle.latestRound() + 1, 1.04e18, 54e18);
        // +4 % in an hour is beyond the oracle's growth cap: the guardian approves the move
        bytes32 d = oracle.digest(r);
        vm.prank(admin);
        oracle.approveReport(d, true);
        _submit(oracle, r);
        assertEq(vault.rawTotalAssets(), 104e18);
        assertEq(oracle.price(), 1.04e30);
        assertEq(market.borrowLimit(100e24), 83.2e18);
        vm.prank(alice);
        market.borrow(83.2e18, alice);
    }
}
