// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {AID} from "../src/AID.sol";
import {TranchedPool} from "../src/TranchedPool.sol";
import {TrancheToken} from "../src/TrancheToken.sol";
import {PoolWaterfall} from "../src/PoolWaterfall.sol";
import {Errors} from "../src/Errors.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @notice A contract holder that can call nothing (an AMM pair's position, say).
contract Inert {}

/// @notice Shared set-up: a 700 / 200 / 100 USD pool (senior 6 % fixed, mezzanine 10 % fixed,
/// equity), senior fee 50 bps, OC trigger 1.25, fully subscribed and issued.
abstract contract PoolFixture is Test {
    AID internal aid;
    TranchedPool internal pool;
    address internal admin = address(0xAD);
    address internal servicer = address(0x5E);
    address internal fees = address(0xFE);
    address internal funding = address(0xF0);
    address internal payer = address(0x0B);
    address internal alice = address(0xA1);
    address internal bob = address(0xB0);
    address internal carol = address(0xC0);

    function _specs() internal pure returns (TranchedPool.TrancheSpec[] memory s) {
        s = new TranchedPool.TrancheSpec[](3);
        s[0] = TranchedPool.TrancheSpec({balance: 700e18, couponPpb: 60_000_000, floating: false, spreadPpb: 0});
        s[1] = TranchedPool.TrancheSpec({balance: 200e18, couponPpb: 100_000_000, floating: false, spreadPpb: 0});
        s[2] = TranchedPool.TrancheSpec({balance: 100e18, couponPpb: 0, floating: false, spreadPpb: 0});
    }

    function _names() internal pure returns (string[] memory n, string[] memory y) {
        n = new string[](3);
        y = new string[](3);
        (n[0], n[1], n[2]) = ("Pool A senior", "Pool A mezzanine", "Pool A equity");
        (y[0], y[1], y[2]) = ("PA-S", "PA-M", "PA-E");
    }

    function _deploy(TranchedPool.TrancheSpec[] memory specs, uint256 oc) internal returns (TranchedPool p) {
        (string[] memory n, string[] memory y) = _names();
        if (specs.length != 3) {
            n = new string[](specs.length);
            y = new string[](specs.length);
        }
        p = new TranchedPool(aid, admin, servicer, fees, 50, oc, specs, n, y, _sched(12));
    }

    /// @dev Issue window 30 days, 30-day periods, legal final period `legalFinal`.
    function _sched(uint256 legalFinal) internal pure returns (TranchedPool.Schedule memory) {
        return TranchedPool.Schedule({issueWindow: 30 days, periodSeconds: 30 days, legalFinalPeriod: legalFinal});
    }

    function setUp() public virtual {
        aid = new AID(address(this));
        aid.grantRole(aid.MINTER_ROLE(), address(this));
        address[3] memory inv = [alice, bob, carol];
        for (uint256 i = 0; i < 3; i++) {
            aid.mint(inv[i], 1e24);
        }
        aid.mint(payer, 1e30);
        _issue(12);
    }

    /// @dev Deploys the fixture's pool (legal final period `legalFinal`) as `pool`, subscribes it
    /// in full and closes the issue.
    function _issue(uint256 legalFinal) internal {
        (string[] memory n, string[] memory y) = _names();
        pool = new TranchedPool(aid, admin, servicer, fees, 50, 1_250_000_000, _specs(), n, y, _sched(legalFinal));
        address[3] memory inv = [alice, bob, carol];
        for (uint256 i = 0; i < 3; i++) {
            vm.prank(inv[i]);
            aid.approve(address(pool), type(uint256).max);
        }
        // alice 60 % and bob 40 % of the senior; bob the mezzanine; carol the equity.
        vm.prank(alice);
        pool.subscribe(0, 420e18, alice);
        vm.prank(bob);
        pool.subscribe(0, 280e18, bob);
        vm.prank(bob);
        pool.subscribe(1, 200e18, bob);
        vm.prank(carol);
        pool.subscribe(2, 100e18, carol);
        vm.prank(admin);
        pool.closeIssue(funding);
    }

    function _tok(uint256 j) internal view returns (TrancheToken) {
        return pool.tranches(j);
    }

    /// @dev Revenue arrives (as from a RevenueRouter deal whose lender is the pool), then the
    /// servicer closes the period.
    function _period(uint256 interest, uint256 principal, uint256 perf, bool fin)
        internal
        returns (PoolWaterfall.Flows memory f)
    {
        vm.prank(payer);
        aid.transfer(address(pool), interest + principal);
        assertEq(fin, pool.period() + 1 == pool.legalFinalPeriod(), "fixture: legal final period");
        vm.warp(block.timestamp + pool.periodSeconds());
        // at most what the pool's capital can still have outstanding (finding M2)
        if (perf > pool.maxPerformingBalance()) perf = pool.maxPerformingBalance();
        vm.prank(servicer);
        f = pool.closePeriod(principal, perf, 0);
    }
}

contract TranchedPoolTest is PoolFixture {
    function testIssueMintsTokensOneToOneAndFundsTheRecipient() public view {
        assertEq(_tok(0).totalSupply(), 700e18);
        assertEq(_tok(0).balanceOf(alice), 420e18);
        assertEq(_tok(1).balanceOf(bob), 200e18);
        assertEq(_tok(2).balanceOf(carol), 100e18);
        assertEq(aid.balanceOf(funding), 1000e18);
        assertEq(aid.balanceOf(address(pool)), 0);
        assertEq(_tok(0).symbol(), "PA-S");
        assertEq(_tok(2).trancheIndex(), 2);
    }

    function testHealthyMonthPaysFeesCouponsPrincipalAndEquity() public {
        // 12 USD interest + 10 USD principal proceeds, performing balance 1000 (OC 1000/700 ok).
        PoolWaterfall.Flows memory f = _period(12e18, 10e18, 1000e18, false);
        assertEq(f.feesPaid, 0.42e18, "fee: 1000 x 50 bps / 12 = 0.4166 -> 0.42");
        assertEq(f.interest[0], 3.5e18, "senior coupon 700 x 6 % / 12");
        assertEq(f.interest[1], 1.67e18, "mezz coupon 200 x 10 % / 12 = 1.666 -> 1.67");
        assertEq(f.principal[0], 10e18, "principal proceeds to the senior");
        assertEq(f.interest[2], 12e18 - 0.42e18 - 3.5e18 - 1.67e18, "equity: residual interest");
        assertFalse(f.ocBreached);
        assertFalse(f.seniorInterestDefault);
        assertEq(aid.balanceOf(fees), 0.42e18);
        assertEq(pool.trancheBalance(0), 690e18);
        // Holders pull their pro-rata share: alice 60 % of the senior's 13.5 (the accumulator and
        // the share are each rounded down: at most 1 wei less than the exact share).
        TrancheToken s = _tok(0);
        assertApproxEqAbs(s.claimable(alice), 8.1e18, 1, "alice");
        assertLe(s.claimable(alice), 8.1e18);
        assertApproxEqAbs(s.claimable(bob), 5.4e18, 1, "bob");
        assertEq(_tok(1).claimable(bob), 1.67e18, "sole holder");
        uint256 want = s.claimable(alice);
        uint256 before = aid.balanceOf(alice);
        vm.prank(alice);
        assertEq(s.claim(alice), want);
        assertEq(aid.balanceOf(alice) - before, want);
        assertEq(s.claimable(alice), 0);
        assertEq(aid.balanceOf(address(pool)), 0, "everything collected is paid out");
    }

    function testSeniorArrearsBlockJuniorsAndPrincipalCuresThem() public {
        // No interest, 1 USD principal: fees 0.42 and 0.58 of the senior's 3.50 are paid from
        // principal proceeds; 2.92 stays in arrears: an interest default, juniors get nothing.
        PoolWaterfall.Flows memory f = _period(0, 1e18, 1000e18, false);
        assertEq(f.feesPaid, 0.42e18);
        assertEq(f.interest[0], 0.58e18);
        assertEq(f.shortfall[0], 2.92e18);
        assertTrue(f.seniorInterestDefault);
        assertEq(f.interest[1] + f.principal[1] + f.interest[2] + f.principal[2], 0);
        assertEq(f.shortfall[1], 1.67e18, "mezz shortfall capitalises");
        assertEq(pool.trancheBalance(1), 201.67e18);
        PoolWaterfall.State memory s = pool.state();
        assertEq(s.seniorInterestArrears, 2.92e18);
        // Next month the arrears are due again with the coupon: 2.92 + 3.50 = 6.42.
        f = _period(20e18, 0, 1000e18, false);
        assertEq(f.interest[0], 6.42e18);
        assertFalse(f.seniorInterestDefault);
        assertEq(pool.state().seniorInterestArrears, 0);
    }

    function testOcBreachDivertsInterestToSeniorPrincipal() public {
        // performing 800 < 1.25 x 700: cure up to 700 - 800 / 1.25 = 60 from interest proceeds.
        // Fee 800 x 50 bps / 12 = 0.33, coupons 3.50 and 1.67 are paid first; the 44.50 left of
        // the 50 all goes to the senior's principal (less than the 60 needed), none to the equity.
        PoolWaterfall.Flows memory f = _period(50e18, 0, 800e18, false);
        assertTrue(f.ocBreached);
        assertEq(f.feesPaid, 0.33e18);
        assertEq(f.interest[0], 3.5e18);
        assertEq(f.interest[1], 1.67e18);
        assertEq(f.principal[0], 44.5e18);
        assertEq(f.principal[1], 0);
        assertEq(f.interest[2] + f.principal[2], 0);
        assertEq(pool.trancheBalance(0), 655.5e18);
    }

    function testOcCureRoundsTheCoveredBalanceUp() public {
        // performing 800e18 + 1 wei: covered = ceil((800e18 + 1) / 1.25) = 640e18 + 1, so the cure
        // is 60e18 - 1 wei (a floor would cure 60e18); 100 of interest: 0.33 + 3.50 + 1.67 of fee
        // and coupons, 60e18 - 1 of senior principal, the equity the 34.50 + 1 wei left.
        PoolWaterfall.Flows memory f = _period(100e18, 0, 800e18 + 1, false);
        assertTrue(f.ocBreached);
        assertEq(f.feesPaid, 0.33e18);
        assertEq(f.interest[0], 3.5e18);
        assertEq(f.interest[1], 1.67e18);
        assertEq(f.principal[0], 60e18 - 1);
        assertEq(f.interest[2], 34.5e18 + 1);
        assertEq(f.principal[2], 0);
    }

    function testLegalFinalPaysInSeniorityAndWritesDown() public {
        _issue(1);
        // 600 USD at the legal final: fees, senior interest + principal (703.5) take it all.
        PoolWaterfall.Flows memory f = _period(0, 600e18, 1000e18, true);
        assertEq(f.feesPaid, 0.42e18);
        assertEq(f.interest[0], 3.5e18);
        assertEq(f.principal[0], 596.08e18);
        assertEq(f.writedown[0], 103.92e18);
        assertEq(f.writedown[1], 200e18 + 1.67e18, "mezz: balance and this month's capitalised coupon");
        assertEq(pool.trancheBalance(0), 0);
        assertTrue(pool.matured());
        vm.prank(servicer);
        vm.expectRevert(Errors.PoolMatured.selector);
        pool.closePeriod(0, 0, 0);
    }

    // Review finding L6: senior fee arrears the legal final's pot cannot pay are written off (no
    // fee is paid after maturity), so the matured pool's state shows none outstanding.
    function testLegalFinalWritesOffFeeArrears() public {
        _issue(2);
        _period(0, 0, 1000e18, false); // nothing collected: the 0.42 fee is in arrears
        assertEq(pool.state().feeArrears, 0.42e18);
        vm.prank(payer);
        aid.transfer(address(pool), 0.5e18);
        vm.warp(block.timestamp + pool.periodSeconds());
        vm.expectEmit(address(pool));
        emit TranchedPool.FeeArrearsWrittenOff(0.34e18);
        vm.prank(servicer);
        PoolWaterfall.Flows memory f = pool.closePeriod(0, 1000e18, 0);
        assertEq(f.feesPaid, 0.5e18, "the pot pays 0.5 of the 0.84 due");
        assertEq(pool.state().feeArrears, 0, "the other 0.34 written off");
        assertTrue(pool.matured());
    }

    function testFeeAndCouponRoundingVectors() public pure {
        // fee = perf x bps / 120 000 to the cent; at a half cent: bps%3 == 0 even, 1 down, 2 up.
        assertEq(PoolWaterfall.feeDue(1000e18, 50), 0.42e18);
        assertEq(PoolWaterfall.feeDue(12e18, 50), 0.01e18, "0.005 -> up (50 % 3 == 2)");
        assertEq(PoolWaterfall.feeDue(12e18, 100), 0.01e18, "0.01 exact");
        assertEq(PoolWaterfall.feeDue(6e18, 100), 0, "0.005 -> down (100 % 3 == 1)");
        assertEq(PoolWaterfall.feeDue(2e18, 300), 0, "0.005 -> even (300 % 3 == 0)");
        assertEq(PoolWaterfall.feeDue(6e18, 300), 0.02e18, "0.015 -> even");
        // coupon = balance x ppb / 12e9 to the cent, half to even.
        assertEq(PoolWaterfall.couponDue(200e18, 100_000_000), 1.67e18);
        assertEq(PoolWaterfall.couponDue(1e18, 60_000_000), 0, "0.005 -> even 0");
        assertEq(PoolWaterfall.couponDue(3e18, 60_000_000), 0.02e18, "0.015 -> even 0.02");
        assertEq(PoolWaterfall.couponDue(0, 1e9), 0);
    }

    function testTransferKeepsEarnedClaimsAndMovesFutureOnes() public {
        _period(12e18, 10e18, 1000e18, false);
        TrancheToken s = _tok(0);
        uint256 a = s.claimable(alice);
        uint256 total = a + s.claimable(bob);
        vm.prank(alice);
        s.transfer(bob, 420e18);
        assertEq(s.claimable(alice), a, "earned before the transfer stays with alice");
        assertEq(s.claimable(alice) + s.claimable(bob), total);
        PoolWaterfall.Flows memory f = _period(12e18, 0, 1000e18, false);
        assertEq(s.claimable(alice), a, "nothing new for a holder of 0");
        assertApproxEqAbs(s.claimable(bob), total - a + f.interest[0] + f.principal[0], 1, "bob: the whole tranche");
    }

    // Review finding M4: the claims of holders that cannot call `claim` (an AMM pair, the pool
    // itself) are paid to a receiver designated by the holder, or for a contract by the pool's
    // admin; anyone may trigger `claimFor`, which pays that receiver only.
    function testClaimReceiverPaysHoldersThatCannotClaim() public {
        TrancheToken s = _tok(0);
        Inert amm = new Inert();
        address treasury = address(0x7E);
        vm.startPrank(alice);
        s.transfer(address(amm), 140e18); // 20 % of the senior
        s.transfer(address(pool), 70e18); // 10 %, sent to the pool by mistake
        vm.stopPrank();
        _period(12e18, 10e18, 1000e18, false);
        uint256 owedAmm = s.claimable(address(amm));
        assertApproxEqAbs(owedAmm, 2.7e18, 1, "20 % of the senior's 13.5");
        vm.expectRevert(abi.encodeWithSelector(Errors.NoClaimReceiver.selector, address(amm)));
        s.claimFor(address(amm));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(Errors.NotPoolAdmin.selector, bob));
        s.setClaimReceiverFor(address(amm), treasury);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(Errors.NotAContract.selector, bob));
        s.setClaimReceiverFor(bob, treasury);
        vm.startPrank(admin);
        s.setClaimReceiverFor(address(amm), treasury);
        s.setClaimReceiverFor(address(pool), treasury);
        vm.stopPrank();
        assertEq(s.claimReceiver(address(amm)), treasury);
        vm.prank(carol); // anyone triggers it
        assertEq(s.claimFor(address(amm)), owedAmm);
        assertEq(aid.balanceOf(treasury), owedAmm);
        assertEq(s.claimable(address(amm)), 0);
        uint256 owedPool = s.claimable(address(pool));
        assertApproxEqAbs(owedPool, 1.35e18, 1, "10 % of 13.5");
        s.claimFor(address(pool));
        assertEq(aid.balanceOf(treasury), owedAmm + owedPool);
        // a holder's own designation pays its receiver, and the admin cannot override it
        vm.prank(bob);
        s.setClaimReceiver(carol);
        uint256 owedBob = s.claimable(bob);
        uint256 before = aid.balanceOf(carol);
        s.claimFor(bob);
        assertEq(aid.balanceOf(carol) - before, owedBob);
        vm.prank(address(amm));
        s.setClaimReceiver(address(0xA3));
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(Errors.ClaimReceiverSetByHolder.selector, address(amm)));
        s.setClaimReceiverFor(address(amm), treasury);
    }

    function testFuzzTransferDuringAPeriodKeepsTotalClaimable(uint256 amount, uint256 i, uint256 p, uint256 i2) public {
        i = bound(i, 0, 1e24);
        p = bound(p, 0, 1e24);
        i2 = bound(i2, 0, 1e24);
        amount = bound(amount, 0, 420e18);
        _period(i, p, 1000e18, false);
        TrancheToken t = _tok(0);
        uint256 before = t.claimable(alice) + t.claimable(bob) + t.claimable(carol);
        vm.prank(alice);
        t.transfer(carol, amount);
        assertEq(t.claimable(alice) + t.claimable(bob) + t.claimable(carol), before, "transfer moves no claim");
        // Another period: the total claimable equals what the tranche received, less at most one
        // wei of rounding per holder.
        _period(i2, 0, 1000e18, false);
        uint256 sum = t.claimable(alice) + t.claimable(bob) + t.claimable(carol);
        assertLe(sum, aid.balanceOf(address(t)));
        assertLe(t.totalDistributed() - sum, 3 * 2);
    }

    function testFuzzWaterfallConservesCash(uint256 i, uint256 p, uint256 perf, uint256 base, bool fin) public {
        if (fin) _issue(1);
        i = bound(i, 0, 1e27);
        p = bound(p, 0, 1e27);
        perf = bound(perf, 0, pool.maxPerformingBalance());
        base = bound(base, 0, 1e9);
        vm.prank(payer);
        aid.transfer(address(pool), i + p);
        vm.warp(block.timestamp + 30 days);
        vm.prank(servicer);
        PoolWaterfall.Flows memory f = pool.closePeriod(p, perf, base);
        assertEq(pool.matured(), fin);
        uint256 paid = f.feesPaid;
        for (uint256 j = 0; j < 3; j++) {
            paid += f.interest[j] + f.principal[j];
        }
        assertEq(paid, i + p, "fees + tranche receipts = collections");
        assertEq(aid.balanceOf(address(pool)), 0);
        if (f.seniorInterestDefault) {
            assertEq(f.interest[1] + f.principal[1] + f.interest[2] + f.principal[2], 0, "no junior while short");
        }
    }

    // Review finding M2: admin and servicer are different accounts, the performing balance is
    // bounded by the capital still lent out, the fee recipient changes only after a timelock.
    function testRolesAreSplitPerformingIsBoundedAndTheFeeRecipientTimelocked() public {
        bytes32 srv = pool.SERVICER_ROLE();
        bytes32 adm = pool.DEFAULT_ADMIN_ROLE();
        assertFalse(pool.hasRole(srv, admin));
        assertFalse(pool.hasRole(adm, servicer));
        vm.warp(block.timestamp + 30 days);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, srv));
        pool.closePeriod(0, 0, 0);
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(Errors.RolesNotSplit.selector, admin));
        pool.grantRole(srv, admin);
        vm.expectRevert(abi.encodeWithSelector(Errors.RolesNotSplit.selector, servicer));
        pool.grantRole(adm, servicer);
        vm.stopPrank();
        (string[] memory n, string[] memory y) = _names();
        vm.expectRevert(abi.encodeWithSelector(Errors.RolesNotSplit.selector, admin));
        new TranchedPool(aid, admin, admin, fees, 50, 0, _specs(), n, y, _sched(12));
        // performing <= the 1000 lent at the issue close less the principal declared since
        assertEq(pool.funded(), 1000e18);
        assertEq(pool.maxPerformingBalance(), 1000e18);
        vm.prank(payer);
        aid.transfer(address(pool), 112e18);
        vm.prank(servicer);
        vm.expectRevert(abi.encodeWithSelector(Errors.PerformingBalanceTooLarge.selector, 1000e18 + 1, 1000e18));
        pool.closePeriod(100e18, 1000e18 + 1, 0);
        vm.prank(servicer);
        pool.closePeriod(100e18, 1000e18, 0);
        assertEq(pool.principalReturned(), 100e18);
        assertEq(pool.maxPerformingBalance(), 900e18);
        // fees on ten times the capital (booked as fee arrears when unpaid): refused
        vm.warp(block.timestamp + 30 days);
        vm.prank(servicer);
        vm.expectRevert(abi.encodeWithSelector(Errors.PerformingBalanceTooLarge.selector, 10_000e18, 900e18));
        pool.closePeriod(0, 10_000e18, 0);
        // the fee recipient: proposed by the admin, effective two days later
        address next = address(0xFE2);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, adm));
        pool.proposeFeeRecipient(next);
        vm.startPrank(admin);
        vm.expectRevert(Errors.NoPendingChange.selector);
        pool.acceptFeeRecipient();
        pool.proposeFeeRecipient(next);
        uint256 eta = block.timestamp + 2 days;
        assertEq(pool.pendingFeeRecipientEta(), eta);
        vm.warp(eta - 1);
        vm.expectRevert(abi.encodeWithSelector(Errors.TimelockNotElapsed.selector, eta));
        pool.acceptFeeRecipient();
        assertEq(pool.feeRecipient(), fees);
        vm.warp(eta);
        pool.acceptFeeRecipient();
        vm.stopPrank();
        assertEq(pool.feeRecipient(), next);
        assertEq(pool.pendingFeeRecipient(), address(0));
    }

    function testAccessAndIssueRules() public {
        bytes32 role = pool.SERVICER_ROLE();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        pool.closePeriod(0, 0, 0);
        vm.warp(block.timestamp + 30 days);
        vm.prank(alice);
        vm.expectRevert(Errors.IssueClosed.selector);
        pool.subscribe(0, 1, alice);
        vm.prank(payer);
        aid.transfer(address(pool), 5);
        vm.prank(servicer);
        vm.expectRevert(abi.encodeWithSelector(Errors.ProceedsExceedCash.selector, 6, 5));
        pool.closePeriod(6, 0, 0);
        vm.prank(servicer);
        vm.expectRevert(abi.encodeWithSelector(Errors.PoolValueTooLarge.selector, "baseRatePpb", 1e9 + 1, uint256(1e9)));
        pool.closePeriod(0, 0, 1e9 + 1);
        TrancheToken t = _tok(0);
        vm.prank(address(0xBAD));
        vm.expectRevert(abi.encodeWithSelector(Errors.OnlyPool.selector, address(0xBAD)));
        t.distribute(1);
    }

    function testSubscriptionIsBoundedAndIssueNeedsFullSubscription() public {
        TranchedPool p = _deploy(_specs(), 0);
        vm.prank(alice);
        aid.approve(address(p), type(uint256).max);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Errors.OverSubscribed.selector, 0, 701e18, 700e18));
        p.subscribe(0, 701e18, alice);
        vm.prank(alice);
        p.subscribe(0, 700e18, alice);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(Errors.NotFullySubscribed.selector, 1, 0, 200e18));
        p.closeIssue(funding);
        vm.prank(servicer);
        vm.expectRevert(Errors.IssueNotClosed.selector);
        p.closePeriod(0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(Errors.UnknownTranche.selector, 3));
        p.subscribe(3, 1, alice);
    }

    function testConstructorRejectsBadTerms() public {
        TranchedPool.TrancheSpec[] memory s = _specs();
        s[2].couponPpb = 1;
        (string[] memory n, string[] memory y) = _names();
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidTranche.selector, 2, "couponPpb", 1));
        new TranchedPool(aid, admin, servicer, fees, 50, 0, s, n, y, _sched(12));
        s = _specs();
        s[0].balance = 0;
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidTranche.selector, 0, "balance", 0));
        new TranchedPool(aid, admin, servicer, fees, 50, 0, s, n, y, _sched(12));
        s = _specs();
        vm.expectRevert(abi.encodeWithSelector(Errors.BpsTooLarge.selector, 10_001));
        new TranchedPool(aid, admin, servicer, fees, 10_001, 0, s, n, y, _sched(12));
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidTrancheCount.selector, 0));
        new TranchedPool(aid, admin, servicer, fees, 50, 0, new TranchedPool.TrancheSpec[](0), n, y, _sched(12));
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidSchedule.selector, "issueWindow", 0));
        new TranchedPool(aid, admin, servicer, fees, 50, 0, _specs(), n, y, TranchedPool.Schedule(0, 30 days, 12));
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidSchedule.selector, "periodSeconds", 0));
        new TranchedPool(aid, admin, servicer, fees, 50, 0, _specs(), n, y, TranchedPool.Schedule(30 days, 0, 12));
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidSchedule.selector, "legalFinalPeriod", 0));
        new TranchedPool(aid, admin, servicer, fees, 50, 0, _specs(), n, y, TranchedPool.Schedule(30 days, 30 days, 0));
    }

    function testFloatingCouponUsesBaseRatePlusSpread() public {
        TranchedPool.TrancheSpec[] memory s = _specs();
        s[0] = TranchedPool.TrancheSpec({balance: 700e18, couponPpb: 0, floating: true, spreadPpb: 20_000_000});
        (string[] memory n, string[] memory y) = _names();
        PoolWaterfall.Terms memory t = PoolWaterfall.Terms({
            seniorFeeBps: 0,
            ocTriggerPpb: 0,
            couponPpb: new uint256[](3),
            floating: new bool[](3),
            spreadPpb: new uint256[](3)
        });
        t.floating[0] = true;
        t.spreadPpb[0] = 20_000_000;
        PoolWaterfall.State memory st = PoolWaterfall.State(new uint256[](3), 0, 0);
        (st.balances[0], st.balances[1], st.balances[2]) = (700e18, 200e18, 100e18);
        PoolWaterfall.Collections memory c = PoolWaterfall.Collections(100e18, 0, 1000e18, 40_000_000, false);
        TranchedPool p = new TranchedPool(aid, admin, servicer, fees, 0, 0, s, n, y, _sched(12));
        (, PoolWaterfall.Flows memory f) = p.waterfallStep(t, st, c);
        assertEq(f.interest[0], 3.5e18, "700 x (4 % + 2 %) / 12");
    }

    // H1: an issue that never fills is cancelled and every subscriber refunded 1:1.
    function testUnfilledIssueIsCancelledAfterTheDeadlineAndRefunded() public {
        (string[] memory n, string[] memory y) = _names();
        TranchedPool p = new TranchedPool(aid, admin, servicer, fees, 50, 0, _specs(), n, y, _sched(12));
        uint256 deadline = block.timestamp + 30 days;
        assertEq(p.issueDeadline(), deadline);
        vm.prank(alice);
        aid.approve(address(p), type(uint256).max);
        vm.prank(bob);
        aid.approve(address(p), type(uint256).max);
        vm.prank(alice);
        p.subscribe(0, 700e18, alice);
        vm.prank(bob);
        p.subscribe(1, 150e18, bob); // the mezzanine never fills
        // Before the deadline only the admin may cancel.
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(Errors.IssueDeadlineNotPassed.selector, deadline));
        p.cancelIssue();
        vm.prank(alice);
        vm.expectRevert(Errors.IssueNotCancelled.selector);
        p.refund(0, 1, alice);
        vm.warp(deadline + 1);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(Errors.IssueDeadlinePassed.selector, deadline));
        p.subscribe(2, 100e18, carol);
        // After it anyone may; then no subscription and no close, only refunds.
        vm.prank(carol);
        p.cancelIssue();
        assertTrue(p.issueCancelled());
        vm.prank(admin);
        vm.expectRevert(Errors.IssueCancelled.selector);
        p.closeIssue(funding);
        vm.expectRevert(Errors.IssueCancelled.selector);
        p.cancelIssue();
        uint256 a0 = aid.balanceOf(alice);
        vm.prank(alice);
        p.refund(0, 700e18, alice);
        assertEq(aid.balanceOf(alice), a0 + 700e18);
        assertEq(p.tranches(0).totalSupply(), 0);
        uint256 c0 = aid.balanceOf(carol);
        vm.prank(bob);
        p.refund(1, 100e18, carol);
        assertEq(aid.balanceOf(carol), c0 + 100e18);
        TrancheToken mezz = p.tranches(1);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, bob, 50e18, 51e18));
        p.refund(1, 51e18, bob);
        assertEq(mezz.balanceOf(bob), 50e18);
        vm.prank(bob);
        p.refund(1, 50e18, bob);
        assertEq(p.raised(), 0);
        assertEq(aid.balanceOf(address(p)), 0);
    }

    // H1: the admin may cancel before the deadline, not after the close.
    function testAdminCancelsBeforeTheDeadlineButNotAfterClose() public {
        (string[] memory n, string[] memory y) = _names();
        TranchedPool p = new TranchedPool(aid, admin, servicer, fees, 50, 0, _specs(), n, y, _sched(12));
        vm.prank(admin);
        p.cancelIssue();
        vm.prank(alice);
        vm.expectRevert(Errors.IssueCancelled.selector);
        p.subscribe(0, 1, alice);
        vm.prank(admin);
        vm.expectRevert(Errors.IssueClosed.selector);
        pool.cancelIssue();
    }

    // M3: periods are at least periodSeconds apart, and the legal final is the period fixed at
    // deployment.
    function testPeriodsAreSpacedAndTheLegalFinalIsFixed() public {
        _issue(2);
        uint256 closedAt = block.timestamp;
        assertEq(pool.lastClose(), closedAt);
        vm.prank(servicer);
        vm.expectRevert(abi.encodeWithSelector(Errors.PeriodTooEarly.selector, closedAt + 30 days));
        pool.closePeriod(0, 1000e18, 0);
        vm.warp(closedAt + 30 days);
        vm.prank(servicer);
        pool.closePeriod(0, 1000e18, 0);
        assertFalse(pool.matured());
        vm.warp(closedAt + 60 days - 1);
        vm.prank(servicer);
        vm.expectRevert(abi.encodeWithSelector(Errors.PeriodTooEarly.selector, closedAt + 60 days));
        pool.closePeriod(0, 1000e18, 0);
        vm.warp(closedAt + 60 days);
        vm.prank(servicer);
        PoolWaterfall.Flows memory f = pool.closePeriod(0, 1000e18, 0);
        assertTrue(pool.matured(), "period 2 is the legal final");
        assertEq(f.writedown[0], 700e18 + 3.5e18 + 3.5e18, "senior: balance and two months of arrears");
    }

    // H2: AID collected after maturity goes to the written-down tranches in seniority order,
    // then to the equity; nothing stays in the pool.
    function testResidualAfterMaturityRepaysWriteDownsInOrderThenEquity() public {
        vm.expectRevert(Errors.PoolNotMatured.selector);
        pool.distributeResidual();
        _issue(1);
        // Legal final with 600: fees 0.42, senior 3.50 + 596.08 of principal, written down 103.92;
        // mezzanine 200 + 1.67 written down; the equity 100.
        _period(0, 600e18, 1000e18, true);
        assertEq(pool.residualDue(0), 103.92e18);
        assertEq(pool.residualDue(1), 201.67e18);
        // 150 of recoveries: 103.92 to the senior, 46.08 to the mezzanine.
        vm.prank(payer);
        aid.transfer(address(pool), 150e18);
        uint256 s0 = _tok(0).claimable(alice);
        vm.prank(carol); // permissionless
        uint256[] memory paid = pool.distributeResidual();
        assertEq(paid[0], 103.92e18);
        assertEq(paid[1], 46.08e18);
        assertEq(paid[2], 0);
        assertEq(pool.residualDue(0), 0);
        assertEq(pool.residualDue(1), 155.59e18);
        assertEq(_tok(0).claimable(alice) - s0, 62.352e18, "alice: 60 % of the senior's 103.92");
        // 200 more: 155.59 to the mezzanine, 44.41 to the equity.
        vm.prank(payer);
        aid.transfer(address(pool), 200e18);
        paid = pool.distributeResidual();
        assertEq(paid[0], 0);
        assertEq(paid[1], 155.59e18);
        assertEq(paid[2], 44.41e18);
        assertEq(aid.balanceOf(address(pool)), 0);
        // Then everything to the equity.
        vm.prank(payer);
        aid.transfer(address(pool), 7);
        paid = pool.distributeResidual();
        assertEq(paid[2], 7);
        assertEq(aid.balanceOf(address(_tok(2))), 44.41e18 + 7);
    }
}
