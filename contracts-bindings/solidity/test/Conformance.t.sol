// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VaultFixture} from "./utils/VaultFixture.sol";
import {LendingMarket} from "../src/LendingMarket.sol";
import {ValuationOracle, ValuationReport} from "../src/ValuationOracle.sol";
import {Errors} from "../src/Errors.sol";

/// @notice What third-party suites and an integrating lender tripped over (ERC-4626 views that
/// reverted, aggregate ERC-7540 claimables, a NAV walked up within one block, a round that froze
/// the oracle, liquidations blocked by a late report, collateral decimals). Written against the
/// API the contracts had before these fixes, so every test here fails on those contracts.
contract ConformanceTest is VaultFixture {
    LendingMarket internal market;
    address internal liquidator = address(0x11D);

    function setUp() public {
        _setUpVault();
        market = new LendingMarket(vault, aid, oracle);
        aid.mint(address(market), 1_000_000e18);
        aid.mint(liquidator, 1_000_000e18);
        vm.prank(liquidator);
        aid.approve(address(market), type(uint256).max);
    }

    // ------------------------------------------------------------ 1. ERC-4626 views never revert

    function testErc4626ViewsDoNotRevertWhenStale() public {
        _deposit(alice, 100e18);
        uint256 ta = vault.totalAssets();
        vm.warp(T0 + 30 days); // far past validUntil and maxAge
        assertEq(vault.totalAssets(), ta);
        assertEq(vault.convertToShares(1e18), vault.convertToShares(1e18));
        assertGt(vault.convertToShares(1e18), 0);
        assertGt(vault.convertToAssets(1e24), 0);
        assertEq(vault.maxDeposit(alice), 0);
        assertEq(vault.maxMint(alice), 0);
        _fund(bob, 1e18);
        vm.prank(bob);
        vm.expectPartialRevert(Errors.ReportStale.selector);
        vault.deposit(1e18, bob);
    }

    function testErc4626ViewsDoNotRevertAwaitingValuation() public {
        _deposit(alice, 100e18);
        vm.warp(T0 + 1 hours);
        vm.prank(admin);
        vault.deployCapital(desk, 60e18);
        // the last valuation with the 60 deployed since counted at zero, held up by the
        // mark-down floor (10 %/day from 100 for one hour)
        assertEq(vault.lastValuedAssets(), 40e18);
        assertEq(vault.totalAssets(), vault.floorAssets());
        assertEq(vault.totalAssets(), 100e18 - uint256(100e18) * 1_000 * 1 hours / (10_000 * 1 days));
        assertGt(vault.convertToShares(1e18), 0);
        assertGt(vault.convertToAssets(1e24), 0);
        assertEq(vault.maxDeposit(alice), 0);
        vm.prank(alice);
        vault.requestRedeem(10e24, alice, alice);
        vm.warp(vault.cycleEnd());
        vm.expectRevert(abi.encodeWithSelector(Errors.AwaitingValuation.selector, T0 + 1 hours, T0));
        vault.fulfil(10);
    }

    function testFulfilRevertsWhileStaleEvenThoughViewsWork() public {
        _deposit(alice, 100e18);
        vm.prank(alice);
        vault.requestRedeem(10e24, alice, alice);
        vm.warp(vault.cycleEnd());
        vault.totalAssets();
        vm.expectPartialRevert(Errors.ReportStale.selector);
        vault.fulfil(10);
    }

    // ------------------------------------------------------------ 2. ERC-7540 per request id

    function testTwoFulfilledRequestsReportTheirOwnAmounts() public {
        _deposit(alice, 200e18);
        vm.startPrank(alice);
        uint256 id1 = vault.requestRedeem(100e24, alice, alice);
        uint256 id2 = vault.requestRedeem(50e24, alice, alice);
        vm.stopPrank();
        assertEq(vault.pendingRedeemRequest(id1, alice), 100e24);
        assertEq(vault.pendingRedeemRequest(id2, alice), 50e24);
        vm.warp(vault.cycleEnd());
        _refresh();
        vault.fulfil(10);
        assertEq(vault.pendingRedeemRequest(id1, alice), 0);
        assertEq(vault.pendingRedeemRequest(id2, alice), 0);
        assertEq(vault.claimableRedeemRequest(id1, alice), 100e24, "request 1's own amount");
        assertEq(vault.claimableRedeemRequest(id2, alice), 50e24, "request 2's own amount");
        assertEq(vault.claimableRedeemRequest(0, alice), 150e24, "id 0: the controller's total");
        assertEq(vault.claimableRedeemRequest(id1, bob), 0, "another controller's request");
        // a claim consumes the oldest request first
        vm.prank(alice);
        vault.redeem(100e24, alice, alice);
        assertEq(vault.claimableRedeemRequest(id1, alice), 0);
        assertEq(vault.claimableRedeemRequest(id2, alice), 50e24);
        vm.prank(alice);
        vault.redeem(20e24, alice, alice);
        assertEq(vault.claimableRedeemRequest(id2, alice), 30e24);
    }

    // ------------------------------------------------------------ 4. rate of change over time

    /// @dev The issue's walk: 15 reports in one block, each within the 5 % deviation cap of the
    /// one before, took the NAV from 1.0 to 2.08.
    function testQuorumCannotWalkTheNavUpWithinOneBlock() public {
        vm.warp(T0 + 1 days - 1); // the fixture's report (T0) is still fresh
        uint256 nav = 1e18;
        uint256 accepted;
        for (uint64 i = 0; i < 15; i++) {
            uint256 next = nav * 105 / 100;
            ValuationReport memory r = _report(oracle.latestRound() + 1, next, 0);
            bytes[] memory sigs = _sign(oracle, r, QUORUM);
            try oracle.submit(r, sigs) {
                nav = next;
                accepted++;
            } catch {}
        }
        // one day at 20 %/year allows ~0.055 %, not 5 %
        assertEq(accepted, 0, "no 5 % step a day after the last report");
        assertEq(oracle.latestReport().navPerShare, 1e18);
    }

    function testNoTwoReportsAtTheSameObservationTime() public {
        vm.warp(T0 + 1 hours);
        _submit(oracle, _report(2, 1e18, 0)); // unchanged NAV, an hour later: fine
        ValuationReport memory r = _report(3, 0.99e18, 0); // same observedAt as round 2
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert();
        oracle.submit(r, sigs);
    }

    // ------------------------------------------------------------ 5. sequential rounds

    function testRoundAtUint64MaxIsRejected() public {
        vm.warp(T0 + 1 hours);
        ValuationReport memory r = _report(type(uint64).max, 1e18, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert();
        oracle.submit(r, sigs);
        assertEq(oracle.latestRound(), 1, "not frozen");
        _submit(oracle, _report(2, 1e18, 0));
        assertEq(oracle.latestRound(), 2);
    }

    function testSkippedRoundIsRejected() public {
        vm.warp(T0 + 1 hours);
        ValuationReport memory r = _report(3, 1e18, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert();
        oracle.submit(r, sigs);
    }

    // ------------------------------------------------------------ 6. liquidations while late

    function testLateReportBlocksBorrowingButNotLiquidation() public {
        _deposit(alice, 100e18);
        vm.startPrank(alice);
        vault.approve(address(market), type(uint256).max);
        market.depositCollateral(100e24, alice);
        market.borrow(60e18, alice); // limit 80
        vm.stopPrank();
        // the fixture's report is valid until T0 + 1 day; a week later nobody has refreshed it
        vm.warp(T0 + 8 days);
        vm.prank(alice);
        vm.expectRevert();
        market.borrow(1, alice);
        assertLt(oracle.price(), 1e30, "a conservative, decayed price");
        assertTrue(market.isLiquidatable(alice));
        vm.prank(liquidator);
        (uint256 debt, uint256 coll) = market.liquidate(alice);
        assertEq(debt, 60e18);
        assertEq(coll, 100e24);
    }

    // ------------------------------------------------------------ 7. collateral decimals

    function testCollateralWithMoreThan18PlusLoanDecimalsIsPriced() public {
        ValuationOracle o = _deployOracle(6, 27); // 10^(18 + 6 - 27): divide by 1e3
        _submit(o, _report(1, 1.25e18, 0));
        assertEq(o.price(), 1.25e15);
    }
}
