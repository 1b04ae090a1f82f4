// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OracleSigning} from "./utils/OracleSigning.sol";
import {ValuationOracle, ValuationReport} from "../src/ValuationOracle.sol";
import {Errors} from "../src/Errors.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract ValuationOracleTest is OracleSigning {
    ValuationOracle internal oracle;

    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function setUp() public {
        vm.warp(T0);
        oracle = _deployOracle(18, 24);
    }

    // ------------------------------------------------------------ EIP-712 shape

    function testTypeHashMatchesSpecTypeString() public view {
        assertEq(
            oracle.REPORT_TYPEHASH(),
            keccak256(
                "ValuationReport(bytes32 asset,uint256 navPerShare,uint256 deployedValue,uint16 haircutBps,uint16 ltvBps,uint64 observedAt,uint64 validUntil,bytes32 runId,uint64 round)"
            )
        );
    }

    function testDigestIsEip712OfDomainAndStruct() public view {
        ValuationReport memory r = _report(1, 1e18, 5e18);
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("gaib ValuationOracle"),
                keccak256("1"),
                block.chainid,
                address(oracle)
            )
        );
        assertEq(oracle.domainSeparator(), domain);
        assertEq(oracle.digest(r), keccak256(abi.encodePacked("\x19\x01", domain, oracle.structHash(r))));
    }

    // ------------------------------------------------------------ acceptance

    function testSubmitAcceptsQuorumSignedReport() public {
        ValuationReport memory r = _report(1, 1.05e18, 7e18);
        oracle.submit(r, _sign(oracle, r, QUORUM));
        assertEq(oracle.latestRound(), 1);
        ValuationReport memory got = oracle.latestFreshReport();
        assertEq(got.navPerShare, 1.05e18);
        assertEq(got.deployedValue, 7e18);
        assertEq(got.runId, r.runId);
        (uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredIn) = oracle.latestRoundData();
        assertEq(uint256(id), 1);
        assertEq(answer, int256(1.05e18));
        assertEq(startedAt, T0);
        assertEq(updatedAt, T0);
        assertEq(uint256(answeredIn), 1);
        assertEq(uint256(oracle.decimals()), 18);
        assertEq(oracle.version(), 1);
        assertEq(oracle.description(), "sAID / AID NAV");
        assertEq(uint256(oracle.ltvBps()), 8_000);
        assertEq(oracle.deployedValue(), 7e18);
    }

    function testSubmitAcceptsSignaturesInAnyOrder() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes32 d = oracle.digest(r);
        bytes[] memory sigs = new bytes[](3);
        sigs[0] = _sig(signerKeys[4], d);
        sigs[1] = _sig(signerKeys[0], d);
        sigs[2] = _sig(signerKeys[2], d);
        oracle.submit(r, sigs);
        assertEq(oracle.latestRound(), 1);
    }

    function testQuorumOfKPassesAndKMinusOneFails() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes[] memory under = _sign(oracle, r, QUORUM - 1);
        vm.expectRevert(abi.encodeWithSelector(Errors.QuorumNotMet.selector, QUORUM - 1, QUORUM));
        oracle.submit(r, under);
        oracle.submit(r, _sign(oracle, r, QUORUM));
        assertEq(oracle.latestRound(), 1);
    }

    function testFuzzQuorumBoundary(uint256 q, uint256 k) public {
        q = bound(q, 1, N_SIGNERS);
        k = bound(k, 0, N_SIGNERS);
        vm.prank(admin);
        oracle.setQuorum(q);
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes[] memory sigs = _sign(oracle, r, k);
        if (k < q) {
            vm.expectRevert(abi.encodeWithSelector(Errors.QuorumNotMet.selector, k, q));
            oracle.submit(r, sigs);
        } else {
            oracle.submit(r, sigs);
            assertEq(oracle.latestRound(), 1);
        }
    }

    // ------------------------------------------------------------ rejected reports

    function testSubmitRevertsOnReplayedRound() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        oracle.submit(r, sigs);
        vm.expectRevert(abi.encodeWithSelector(Errors.RoundNotIncreasing.selector, 1, 1));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnOlderRound() public {
        for (uint64 i = 1; i <= 5; i++) {
            vm.warp(T0 + i);
            _submit(oracle, _report(i, 1e18, 0));
        }
        ValuationReport memory r = _report(4, 1e18, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.RoundNotIncreasing.selector, 5, 4));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnObservationOlderThanLast() public {
        _submit(oracle, _report(1, 1e18, 0));
        ValuationReport memory r = _report(2, 1e18, 0);
        r.observedAt = uint64(T0 - 1);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.ObservationOlderThanLast.selector, T0, T0 - 1));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnFutureObservation() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        r.observedAt = uint64(T0 + 1);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.ObservationInFuture.selector, T0 + 1, T0));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsWhenExpired() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        r.observedAt = uint64(T0 - 100);
        r.validUntil = uint64(T0 - 1);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.ReportStale.selector, T0 - 100, T0 - 1, T0));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsWhenOlderThanMaxAge() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        r.observedAt = uint64(T0 - MAX_AGE - 1);
        r.validUntil = uint64(T0 + 1 days);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.ReportStale.selector, T0 - MAX_AGE - 1, T0 + 1 days, T0));
        oracle.submit(r, sigs);
        // exactly maxAge old is still accepted
        r.observedAt = uint64(T0 - MAX_AGE);
        oracle.submit(r, _sign(oracle, r, QUORUM));
    }

    function testSubmitRevertsOnWrongAsset() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        r.asset = keccak256("other");
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.WrongAsset.selector, SAID_ID, r.asset));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnZeroNav() public {
        ValuationReport memory r = _report(1, 0, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(Errors.ZeroNav.selector);
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnDuplicateSigner() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes32 d = oracle.digest(r);
        bytes[] memory sigs = new bytes[](3);
        sigs[0] = _sig(signerKeys[0], d);
        sigs[1] = _sig(signerKeys[1], d);
        sigs[2] = _sig(signerKeys[0], d);
        vm.expectRevert(abi.encodeWithSelector(Errors.DuplicateSigner.selector, signerAddrs[0]));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnUnknownSigner() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes32 d = oracle.digest(r);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        sigs[1] = _sig(0xBAD, d);
        vm.expectRevert(abi.encodeWithSelector(Errors.UnknownSigner.selector, vm.addr(0xBAD)));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnRemovedSigner() public {
        vm.prank(admin);
        oracle.removeSigner(signerAddrs[0]);
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.UnknownSigner.selector, signerAddrs[0]));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnSignatureForOtherChainId() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM); // signed for the current chain
        vm.chainId(block.chainid + 1);
        vm.expectPartialRevert(Errors.UnknownSigner.selector);
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnSignatureForOtherOracle() public {
        ValuationOracle other = _deployOracle(18, 24);
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes[] memory sigs = _sign(other, r, QUORUM); // signed for `other`'s domain
        vm.expectPartialRevert(Errors.UnknownSigner.selector);
        oracle.submit(r, sigs);
        other.submit(r, sigs);
    }

    function testSubmitRevertsOnHighSMalleableSignature() public {
        ValuationReport memory r = _report(1, 1e18, 0);
        bytes32 d = oracle.digest(r);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(signerKeys[0], d);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        // the malleated signature is mathematically valid for the same signer ...
        assertEq(ecrecover(d, flippedV, rr, highS), signerAddrs[0]);
        // ... but OZ ECDSA rejects it
        sigs[0] = abi.encodePacked(rr, highS, flippedV);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOnTamperedField() public {
        ValuationReport memory r = _report(1, 1e18, 5e18);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        r.deployedValue = 50e18;
        vm.expectPartialRevert(Errors.UnknownSigner.selector);
        oracle.submit(r, sigs);
    }

    function testSubmitRevertsOutsideDeviationWithoutGuardian() public {
        _submit(oracle, _report(1, 1e18, 0));
        vm.prank(admin);
        oracle.setRateLimits(type(uint32).max, 0); // only the deviation cap binds
        vm.prank(admin);
        oracle.setMaxMarkdownBpsPerDay(type(uint32).max);
        vm.warp(T0 + 1 hours);
        ValuationReport memory up = _report(2, 1.05e18 + 1, 0);
        bytes[] memory sigs = _sign(oracle, up, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.DeviationTooLarge.selector, 1e18, 1.05e18 + 1, MAX_DEV_BPS));
        oracle.submit(up, sigs);
        ValuationReport memory down = _report(2, 0.95e18 - 1, 0);
        sigs = _sign(oracle, down, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.DeviationTooLarge.selector, 1e18, 0.95e18 - 1, MAX_DEV_BPS));
        oracle.submit(down, sigs);
        // exactly at the bound passes
        _submit(oracle, _report(2, 1.05e18, 0));
        assertEq(oracle.latestRound(), 2);
    }

    function testSubmitAcceptsOutOfDeviationWithGuardianApprovalOnce() public {
        _submit(oracle, _report(1, 1e18, 0));
        ValuationReport memory r = _report(2, 2e18, 0);
        bytes32 d = oracle.digest(r);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), oracle.GUARDIAN_ROLE())
        );
        oracle.approveReport(d, true);
        vm.prank(admin);
        oracle.approveReport(d, true);
        _submit(oracle, r);
        assertEq(oracle.latestFreshReport().navPerShare, 2e18);
        assertFalse(oracle.guardianApproved(d), "approval consumed");
    }

    function testFuzzDeviationBound(uint256 lastNav, uint256 nav) public {
        lastNav = bound(lastNav, 1, 1e30);
        nav = bound(nav, 1, 1e30);
        _submit(oracle, _report(1, lastNav, 0));
        vm.prank(admin);
        oracle.setRateLimits(type(uint32).max, 0); // only the deviation cap binds
        vm.prank(admin);
        oracle.setMaxMarkdownBpsPerDay(type(uint32).max);
        vm.warp(T0 + 1 hours);
        ValuationReport memory r = _report(2, nav, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        uint256 diff = nav > lastNav ? nav - lastNav : lastNav - nav;
        if (diff * 10_000 > lastNav * MAX_DEV_BPS) {
            vm.expectRevert(abi.encodeWithSelector(Errors.DeviationTooLarge.selector, lastNav, nav, MAX_DEV_BPS));
            oracle.submit(r, sigs);
        } else {
            oracle.submit(r, sigs);
            assertEq(oracle.latestRound(), 2);
        }
    }

    // ------------------------------------------------------------ rate of change over time

    function testFuzzGrowthBoundPerSecond(uint256 dt, uint256 nav) public {
        dt = bound(dt, 1, MAX_AGE);
        _submit(oracle, _report(1, 1e18, 0));
        vm.warp(T0 + dt);
        uint256 allowed = uint256(1e18) * 2_000 * dt / (10_000 * 365 days);
        nav = bound(nav, 1e18, 1.05e18); // within the deviation cap: only the growth cap binds
        _submitRound2(
            nav, nav - 1e18 > allowed, abi.encodeWithSelector(Errors.GrowthTooFast.selector, 1e18, nav, 1e18 + allowed)
        );
    }

    /// @dev Submits round 2 at `nav` (3 signatures): expects `err` when `refused`, else success.
    function _submitRound2(uint256 nav, bool refused, bytes memory err) internal {
        ValuationReport memory r = _report(2, nav, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        if (refused) vm.expectRevert(err);
        oracle.submit(r, sigs);
        assertEq(oracle.latestRound(), refused ? 1 : 2);
    }

    function testMarkDownsAreRateLimitedPerDayAndSameTimestampIsRejected() public {
        _submit(oracle, _report(1, 1e18, 0));
        ValuationReport memory r = _report(2, 0.96e18, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.SameObservationTime.selector, T0, T0));
        oracle.submit(r, sigs);
        vm.warp(T0 + 1);
        // -4 % a second later: within the deviation cap, beyond 10 %/day
        r = _report(2, 0.96e18, 0);
        sigs = _sign(oracle, r, QUORUM);
        uint256 minNav = 1e18 - uint256(1e18) * 1_000 / (10_000 * 1 days);
        vm.expectRevert(abi.encodeWithSelector(Errors.MarkdownTooFast.selector, 1e18, 0.96e18, minNav));
        oracle.submit(r, sigs);
        vm.warp(T0 + 6 hours); // an allowance of exactly 2.5 %
        r = _report(2, 0.975e18 - 1, 0);
        sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.MarkdownTooFast.selector, 1e18, 0.975e18 - 1, 0.975e18));
        oracle.submit(r, sigs);
        _submit(oracle, _report(2, 0.975e18, 0));
        assertEq(oracle.latestRound(), 2);
    }

    /// forge-config: ci.fuzz.runs = 2000
    function testFuzzMarkdownBoundPerSecond(uint256 dt, uint256 nav) public {
        dt = bound(dt, 1, MAX_AGE);
        _submit(oracle, _report(1, 1e18, 0));
        vm.warp(T0 + dt);
        uint256 allowed = uint256(1e18) * 1_000 * dt / (10_000 * 1 days);
        nav = bound(nav, 0.95e18, 1e18); // within the deviation cap: only the mark-down bound binds
        _submitRound2(
            nav, 1e18 - nav > allowed, abi.encodeWithSelector(Errors.MarkdownTooFast.selector, 1e18, nav, 1e18 - allowed)
        );
    }

    /// The attack of issue 20 item 3: a signer quorum submits -4 % (inside the deviation cap)
    /// in every block. Only the mark-down allowance of the elapsed time gets through: after an
    /// hour of blocks the NAV is still >= 1 - 10 %/day * 1 h, after a further day of hourly
    /// reports >= 0.9 * that.
    function testSignerQuorumCannotCrashTheNavInBlocks() public {
        _submit(oracle, _report(1, 1e18, 0));
        uint256 nav = 1e18;
        for (uint64 i = 2; i < 302; i++) {
            vm.warp(block.timestamp + 12);
            ValuationReport memory r = _report(i, nav * 96 / 100, 0);
            bytes[] memory sigs = _sign(oracle, r, QUORUM);
            vm.expectPartialRevert(Errors.MarkdownTooFast.selector);
            oracle.submit(r, sigs);
            nav -= nav * 1_000 * 12 / (10_000 * 1 days); // the most it may fall
            _submit(oracle, _report(i, nav, 0));
        }
        uint256 afterHour = oracle.price() / 1e12;
        assertGe(afterHour, 1e18 - uint256(1e18) * 1_000 * 1 hours / (10_000 * 1 days), "an hour of blocks");
        for (uint64 i = 302; i < 326; i++) {
            vm.warp(block.timestamp + 1 hours);
            nav -= nav * 1_000 * 1 hours / (10_000 * 1 days);
            _submit(oracle, _report(i, nav, 0));
        }
        (, int256 answer,,,) = oracle.latestRoundData();
        assertGe(uint256(answer), afterHour * 9 / 10, "a day of hourly reports");
    }

    /// The LTV moves lenders' limits like the NAV: a quorum cannot cut it to 0 (every borrower
    /// liquidatable) or raise it at once; it moves at the NAV's two rates, or with the guardian.
    function testLtvMovesAtMostAtTheNavRates() public {
        _submit(oracle, _report(1, 1e18, 0)); // LTV 8 000
        vm.warp(T0 + 1 hours); // fall allowance: floor(8 000 * 10 %/day * 1 h) = 33
        ValuationReport memory r = _report(2, 1e18, 0);
        r.ltvBps = 0;
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.LtvMoveTooFast.selector, 8_000, 0, 7_967));
        oracle.submit(r, sigs);
        r.ltvBps = 7_966;
        sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.LtvMoveTooFast.selector, 8_000, 7_966, 7_967));
        oracle.submit(r, sigs);
        // rise allowance in an hour at 20 %/year: floor(8 000 * 0.2 / 8 760) = 0
        r.ltvBps = 8_001;
        sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.LtvMoveTooFast.selector, 8_000, 8_001, 8_000));
        oracle.submit(r, sigs);
        r.ltvBps = 7_967;
        _submit(oracle, r);
        // with the guardian, any LTV
        vm.warp(T0 + 2 hours);
        r = _report(3, 1e18, 0);
        r.ltvBps = 1_000;
        bytes32 d = oracle.digest(r);
        vm.prank(admin);
        oracle.approveReport(d, true);
        _submit(oracle, r);
        assertEq(uint256(oracle.ltvBps()), 1_000);
    }

    /// A genuine large loss has a fast path: the guardian co-signs (pre-approves) it.
    function testGuardianApprovedLargeMarkDownIsAccepted() public {
        _submit(oracle, _report(1, 1e18, 0));
        vm.warp(T0 + 1);
        ValuationReport memory r = _report(2, 0.5e18, 0);
        bytes32 d = oracle.digest(r);
        vm.prank(admin);
        oracle.approveReport(d, true);
        _submit(oracle, r);
        assertEq(oracle.price(), 0.5e18 * 1e12);
    }

    function testMarkdownLimitIsAdminOnly() public {
        vm.expectPartialRevert(IAccessControl.AccessControlUnauthorizedAccount.selector);
        oracle.setMaxMarkdownBpsPerDay(0);
        vm.prank(admin);
        oracle.setMaxMarkdownBpsPerDay(250);
        assertEq(uint256(oracle.maxMarkdownBpsPerDay()), 250);
    }

    // ------------------------------------------------------------ value bounds (issue 20 item 4)

    function testNavAndDeployedValueAreBoundedEvenWithTheGuardian() public {
        _submit(oracle, _report(1, 1e18, 0));
        uint256 maxNav = oracle.maxNavPerShare();
        uint256 maxValue = type(uint128).max;
        assertEq(maxNav, maxValue, "sAID: 2^128 - 1 (price scale 1e12)");
        vm.warp(T0 + 1);
        ValuationReport memory r = _report(2, type(uint256).max, 0);
        bytes32 d = oracle.digest(r);
        vm.prank(admin);
        oracle.approveReport(d, true);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.ValueTooLarge.selector, type(uint256).max, maxNav));
        oracle.submit(r, sigs);
        r = _report(2, 1e18, maxValue + 1);
        d = oracle.digest(r);
        vm.prank(admin);
        oracle.approveReport(d, true);
        sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.ValueTooLarge.selector, maxValue + 1, maxValue));
        oracle.submit(r, sigs);
        // the largest values allowed still read
        r = _report(2, maxNav, maxValue);
        d = oracle.digest(r);
        vm.prank(admin);
        oracle.approveReport(d, true);
        _submit(oracle, r);
        assertEq(oracle.price(), maxNav * 1e12);
        (, int256 answer,,,) = oracle.latestRoundData();
        assertEq(uint256(answer), maxNav);
    }

    /// Fuzz: for any decimals the constructor accepts, the largest accepted NAV prices without
    /// overflow, and one more is rejected.
    /// forge-config: ci.fuzz.runs = 300
    function testFuzzMaxNavNeverOverflowsThePrice(uint8 loanDecimals, uint8 collateralDecimals) public {
        loanDecimals = uint8(bound(loanDecimals, 0, 60));
        collateralDecimals = uint8(bound(collateralDecimals, 0, uint256(loanDecimals) + 36));
        vm.assume(uint256(18) + loanDecimals <= uint256(collateralDecimals) + 60);
        ValuationOracle o = _deployOracle(loanDecimals, collateralDecimals);
        uint256 maxNav = o.maxNavPerShare();
        assertGt(maxNav, 0);
        ValuationReport memory r = _report(1, maxNav + 1, 0);
        bytes[] memory sigs = _sign(o, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.ValueTooLarge.selector, maxNav + 1, maxNav));
        o.submit(r, sigs);
        _submit(o, _report(1, maxNav, 0));
        assertEq(o.price(), maxNav * o.priceScale() / o.priceDivisor());
        (, int256 answer,,,) = o.latestRoundData();
        assertEq(uint256(answer), maxNav);
    }

    function testMinReportInterval() public {
        vm.prank(admin);
        oracle.setRateLimits(2_000, 1 hours);
        _submit(oracle, _report(1, 1e18, 0)); // the first report is never rate limited
        vm.warp(T0 + 1 hours - 1);
        ValuationReport memory r = _report(2, 1e18, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.ReportTooSoon.selector, T0 + 1 hours, T0 + 1 hours - 1));
        oracle.submit(r, sigs);
        vm.warp(T0 + 1 hours);
        _submit(oracle, _report(2, 1e18, 0));
        assertEq(oracle.lastSubmittedAt(), T0 + 1 hours);
    }

    function testGuardianApprovalLiftsTheRateLimitsForOneReport() public {
        vm.prank(admin);
        oracle.setRateLimits(0, 1 days);
        _submit(oracle, _report(1, 1e18, 0));
        // same timestamp, +30 %, within the interval: only with the guardian
        ValuationReport memory r = _report(2, 1.3e18, 0);
        bytes32 d = oracle.digest(r);
        vm.prank(admin);
        oracle.approveReport(d, true);
        _submit(oracle, r);
        assertEq(oracle.latestReport().navPerShare, 1.3e18);
        ValuationReport memory again = _report(3, 1.3e18, 0);
        bytes[] memory sigs = _sign(oracle, again, QUORUM);
        vm.expectPartialRevert(Errors.SameObservationTime.selector);
        oracle.submit(again, sigs);
    }

    function testRateLimitSettersRequireAdmin() public {
        vm.expectPartialRevert(IAccessControl.AccessControlUnauthorizedAccount.selector);
        oracle.setRateLimits(1, 1);
        vm.expectPartialRevert(IAccessControl.AccessControlUnauthorizedAccount.selector);
        oracle.setStalePriceDecay(1);
    }

    function testRoundsAreStrictlySequential() public {
        ValuationReport memory r = _report(type(uint64).max, 1e18, 0);
        bytes[] memory sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.RoundNotSequential.selector, 0, type(uint64).max));
        oracle.submit(r, sigs);
        _submit(oracle, _report(1, 1e18, 0));
        vm.warp(T0 + 1);
        r = _report(3, 1e18, 0);
        sigs = _sign(oracle, r, QUORUM);
        vm.expectRevert(abi.encodeWithSelector(Errors.RoundNotSequential.selector, 1, 3));
        oracle.submit(r, sigs);
    }

    // ------------------------------------------------------------ stale: the lenders' price

    function testFuzzStalePriceDecaysLinearlyToZero(uint256 late) public {
        _submit(oracle, _report(1, 1.2e18, 0)); // stale after validUntil = T0 + 1 day
        late = bound(late, 0, 10 days);
        vm.warp(T0 + 1 days + late);
        uint256 decay = 7 days;
        uint256 want = late >= decay ? 0 : uint256(1.2e18) * (decay - late) / decay;
        assertEq(oracle.conservativeNav(), want);
        assertEq(oracle.price(), want * 1e12);
        (uint80 id, int256 answer,, uint256 updatedAt,) = oracle.latestRoundData();
        assertEq(uint256(id), 1);
        assertEq(answer, int256(want));
        assertEq(updatedAt, T0, "updatedAt is the observation: consumers see the real age");
        assertEq(oracle.ltvBps(), 8_000);
        assertEq(oracle.isFresh(), late == 0);
    }

    function testStalePriceDecayZeroMeansZeroOnceStale() public {
        vm.prank(admin);
        oracle.setStalePriceDecay(0);
        _submit(oracle, _report(1, 1e18, 0));
        vm.warp(T0 + 1 days);
        assertEq(oracle.price(), 1e30);
        vm.warp(T0 + 1 days + 1);
        assertEq(oracle.price(), 0);
    }

    function testPriceDividesForCollateralWithMoreDecimals() public {
        ValuationOracle o = _deployOracle(0, 19); // 10^(18 + 0 - 19): divide by 10, floor
        _submit(o, _report(1, 1.234567e18 + 9, 0));
        assertEq(o.priceScale(), 1);
        assertEq(o.priceDivisor(), 10);
        assertEq(o.price(), uint256(1.234567e18 + 9) / 10);
        ValuationOracle edge = _deployOracle(0, 36); // the limit: divide by 1e18
        _submit(edge, _report(1, 1e18, 0));
        assertEq(edge.price(), 1);
    }

    // ------------------------------------------------------------ reads fail closed

    function testReadsRevertWithoutReport() public {
        vm.expectRevert(Errors.NoReport.selector);
        oracle.latestRoundData();
        vm.expectRevert(Errors.NoReport.selector);
        oracle.price();
        vm.expectRevert(Errors.NoReport.selector);
        oracle.getRoundData(1);
        assertFalse(oracle.isFresh());
    }

    function testReadsFailClosedOnceStaleEvenIfFreshAtSubmission() public {
        _submit(oracle, _report(1, 1e18, 0)); // validUntil = T0 + 1 day
        vm.warp(T0 + 1 days);
        assertEq(oracle.price(), 1e30);
        vm.warp(T0 + 1 days + 1);
        assertFalse(oracle.isFresh());
        vm.expectRevert(abi.encodeWithSelector(Errors.ReportStale.selector, T0, T0 + 1 days, T0 + 1 days + 1));
        oracle.latestFreshReport();
        vm.expectPartialRevert(Errors.ReportStale.selector);
        oracle.deployedValue();
        assertLt(oracle.price(), 1e30, "the lenders' price decays instead"); 
        // history stays readable
        (uint80 id,,,,) = oracle.getRoundData(1);
        assertEq(uint256(id), 1);
    }

    function testReadsRevertWhenMaxAgeShrinks() public {
        _submit(oracle, _report(1, 1e18, 0));
        vm.warp(T0 + 2 hours);
        oracle.price();
        vm.prank(admin);
        oracle.setMaxAge(1 hours);
        assertFalse(oracle.isFresh());
        vm.expectPartialRevert(Errors.ReportStale.selector);
        oracle.deployedValue();
        assertEq(oracle.staleAt(), T0 + 1 hours);
    }

    function testPriceScalesByDecimals() public {
        _submit(oracle, _report(1, 1.25e18, 0));
        // sAID (24 dec) in AID (18 dec): nav * 10^(36 + 18 - 24) / 1e18 = nav * 1e12
        assertEq(oracle.price(), 1.25e18 * 1e12);
        ValuationOracle usdcLoan = _deployOracle(6, 24);
        _submit(usdcLoan, _report(1, 1.25e18, 0));
        assertEq(usdcLoan.price(), 1.25e18); // 10^(18 + 6 - 24) = 1
        ValuationOracle same = _deployOracle(18, 18);
        _submit(same, _report(1, 1.25e18, 0));
        assertEq(same.price(), 1.25e36);
    }

    function testConstructorRevertsBeyondSupportedDecimals() public {
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidDecimals.selector, 0, 37));
        _deployOracle(0, 37);
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidDecimals.selector, 61, 18));
        _deployOracle(61, 18);
    }

    function testGetRoundDataReturnsHistory() public {
        _submit(oracle, _report(1, 1e18, 0));
        vm.warp(T0 + 1 hours);
        _submit(oracle, _report(2, 1e18, 0));
        (uint80 id, int256 answer,, uint256 updatedAt,) = oracle.getRoundData(1);
        assertEq(uint256(id), 1);
        assertEq(answer, int256(1e18));
        assertEq(updatedAt, T0);
        (id, answer,, updatedAt,) = oracle.getRoundData(2);
        assertEq(answer, int256(1e18));
        assertEq(updatedAt, T0 + 1 hours);
        vm.expectRevert(Errors.NoReport.selector);
        oracle.getRoundData(3);
    }

    // ------------------------------------------------------------ admin

    function testAdminFunctionsRequireAdminRole() public {
        vm.expectPartialRevert(IAccessControl.AccessControlUnauthorizedAccount.selector);
        oracle.addSigner(address(0x1234));
        vm.expectPartialRevert(IAccessControl.AccessControlUnauthorizedAccount.selector);
        oracle.setQuorum(1);
        vm.expectPartialRevert(IAccessControl.AccessControlUnauthorizedAccount.selector);
        oracle.setMaxAge(1);
        vm.expectPartialRevert(IAccessControl.AccessControlUnauthorizedAccount.selector);
        oracle.removeSigner(signerAddrs[0]);
    }

    function testQuorumCannotExceedSignersOrBeZero() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidQuorum.selector, 0, N_SIGNERS));
        oracle.setQuorum(0);
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidQuorum.selector, N_SIGNERS + 1, N_SIGNERS));
        oracle.setQuorum(N_SIGNERS + 1);
        oracle.setQuorum(N_SIGNERS);
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidQuorum.selector, N_SIGNERS, N_SIGNERS - 1));
        oracle.removeSigner(signerAddrs[0]);
        vm.stopPrank();
    }
}
