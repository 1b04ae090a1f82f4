// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {TrancheOracle, TranchePriceReport} from "../src/TrancheOracle.sol";
import {Errors} from "../src/Errors.sol";
import {ITranchedPoolView} from "../src/TrancheOracle.sol";
import {PoolFixture} from "./TranchedPool.t.sol";

/// @notice Pins the EIP-712 encoding of a TranchePriceReport to the cast-made vectors in
/// contracts-bindings/artifacts/eip712-tranche-vectors.json (the Rust signer checks the same file).
contract TrancheOracleVectorsTest is Test {
    function testTrancheReportEncodingMatchesCheckedInVectors() public {
        string memory json = vm.readFile("../artifacts/eip712-tranche-vectors.json");
        uint256 key = vm.parseJsonUint(json, ".signerKey");
        TranchePriceReport memory r = TranchePriceReport({
            pool: vm.parseJsonBytes32(json, ".report.pool"),
            period: uint64(vm.parseJsonUint(json, ".report.period")),
            prices: vm.parseJsonUintArray(json, ".report.prices"),
            observedAt: uint64(vm.parseJsonUint(json, ".report.observedAt")),
            validUntil: uint64(vm.parseJsonUint(json, ".report.validUntil")),
            runId: vm.parseJsonBytes32(json, ".report.runId"),
            round: uint64(vm.parseJsonUint(json, ".report.round"))
        });
        vm.chainId(vm.parseJsonUint(json, ".domain.chainId"));
        address[] memory signers = new address[](1);
        signers[0] = vm.addr(key);
        uint256[] memory maxP = new uint256[](vm.parseJsonUintArray(json, ".report.prices").length);
        for (uint256 j = 0; j < maxP.length; j++) {
            maxP[j] = type(uint128).max;
        }
        // The constructor does not call the pool: any non-zero address keeps the oracle's address.
        TrancheOracle o = new TrancheOracle(
            address(0xAD), keccak256("pool-a"), ITranchedPoolView(address(0xB001)), "pool-a", signers, 1, 2 days, 500, maxP
        );
        assertEq(address(o), vm.parseJsonAddress(json, ".domain.verifyingContract"), "oracle address");
        assertEq(o.TRANCHE_REPORT_TYPEHASH(), vm.parseJsonBytes32(json, ".typeHash"), "typeHash");
        assertEq(o.trancheStructHash(r), vm.parseJsonBytes32(json, ".structHash"), "structHash");
        assertEq(o.domainSeparator(), vm.parseJsonBytes32(json, ".domainSeparator"), "domainSeparator");
        bytes32 d = o.trancheDigest(r);
        assertEq(d, vm.parseJsonBytes32(json, ".digest"), "digest");
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, d);
        assertEq(keccak256(abi.encodePacked(rr, s, v)), keccak256(vm.parseJsonBytes(json, ".signature")), "sig");
    }
}

/// @notice The oracle of a real pool (PoolFixture's 700 / 200 / 100 pool, issued, at period 0).
contract TrancheOracleTest is PoolFixture {
    TrancheOracle internal o;
    uint256[3] internal keys = [uint256(0x51), 0x52, 0x53];
    bytes32 internal constant POOL = keccak256("pool-a");
    uint64 internal constant T0 = 1_800_000_000;

    function setUp() public override {
        super.setUp();
        o = new TrancheOracle(admin, POOL, ITranchedPoolView(address(pool)), "pool-a tranches", _signers(), 2, 2 days, 500, _prices(2e18, 2e18, 3e18));
        vm.warp(T0);
    }

    function _signers() internal view returns (address[] memory signers) {
        signers = new address[](3);
        for (uint256 i = 0; i < 3; i++) {
            signers[i] = vm.addr(keys[i]);
        }
    }

    function _prices(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory p) {
        p = new uint256[](3);
        (p[0], p[1], p[2]) = (a, b, c);
    }

    /// @dev A report for the pool's period 0.
    function _report(uint64 round, uint256[] memory p, uint64 observedAt)
        internal
        pure
        returns (TranchePriceReport memory)
    {
        return _reportAt(round, 0, p, observedAt);
    }

    function _reportAt(uint64 round, uint64 period, uint256[] memory p, uint64 observedAt)
        internal
        pure
        returns (TranchePriceReport memory)
    {
        return TranchePriceReport(POOL, period, p, observedAt, observedAt + 1 days, keccak256("run"), round);
    }

    function _sigs(TranchePriceReport memory r, uint256 k) internal view returns (bytes[] memory sigs) {
        sigs = new bytes[](k);
        bytes32 d = o.trancheDigest(r);
        for (uint256 i = 0; i < k; i++) {
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], d);
            sigs[i] = abi.encodePacked(rr, s, v);
        }
    }

    function _submit(TranchePriceReport memory r) internal {
        o.submitTranchePrices(r, _sigs(r, 2));
    }

    function testQuorumPublishesEachTranchePriceAndKMinusOneFails() public {
        TranchePriceReport memory r = _report(1, _prices(1e18, 0.98e18, 0.45e18), T0);
        bytes[] memory one = _sigs(r, 1);
        vm.expectRevert(abi.encodeWithSelector(Errors.QuorumNotMet.selector, 1, 2));
        o.submitTranchePrices(r, one);
        _submit(r);
        assertEq(o.tranchePrice(0), 1e18);
        assertEq(o.tranchePrice(1), 0.98e18);
        assertEq(o.tranchePrice(2), 0.45e18);
        assertTrue(o.isTranchePriceFresh());
        assertEq(uint256(o.latestTrancheRound()), 1);
        assertEq(uint256(o.latestRound()), 0, "the NAV sequence is separate");
        vm.expectRevert(abi.encodeWithSelector(Errors.UnknownTranche.selector, 3));
        o.tranchePrice(3);
    }

    function testStalePricesFailClosedAndNoneBeforeTheFirst() public {
        vm.expectRevert(Errors.NoReport.selector);
        o.tranchePrice(0);
        assertFalse(o.isTranchePriceFresh());
        _submit(_report(1, _prices(1e18, 1e18, 1e18), T0));
        vm.warp(T0 + 1 days + 1);
        assertFalse(o.isTranchePriceFresh());
        vm.expectRevert(abi.encodeWithSelector(Errors.ReportStale.selector, T0, T0 + 1 days, T0 + 1 days + 1));
        o.tranchePrice(0);
        assertEq(o.latestTranchePrices().prices[0], 1e18, "history stays readable");
    }

    function testSequenceAndShapeRules() public {
        TranchePriceReport memory r = _report(2, _prices(1e18, 1e18, 1e18), T0);
        bytes[] memory s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.RoundNotSequential.selector, 0, 2));
        o.submitTranchePrices(r, s);
        _submit(_report(1, _prices(1e18, 1e18, 1e18), T0));
        vm.warp(T0 + 60);
        r = _report(2, new uint256[](2), T0 + 60);
        s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidTrancheCount.selector, 2));
        o.submitTranchePrices(r, s);
        r = _report(2, _prices(1e18, 1e18, 1e18), T0 + 60);
        r.pool = keccak256("pool-b");
        s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.WrongAsset.selector, POOL, r.pool));
        o.submitTranchePrices(r, s);
        r = _report(2, _prices(1e18, 1e18, 1e18), T0 + 61);
        s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.ObservationInFuture.selector, T0 + 61, T0 + 60));
        o.submitTranchePrices(r, s);
        r = _report(1, _prices(1e18, 1e18, 1e18), T0 + 60);
        s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.RoundNotIncreasing.selector, 1, 1));
        o.submitTranchePrices(r, s);
    }

    function testEveryTrancheIsHeldToTheCapsAndTheGuardianLiftsThem() public {
        _submit(_report(1, _prices(1e18, 1e18, 1e18), T0));
        vm.warp(T0 + 1 hours);
        // the equity marked down 50 % in an hour: beyond the 5 % deviation cap
        TranchePriceReport memory r = _report(2, _prices(1e18, 1e18, 0.5e18), T0 + 1 hours);
        bytes[] memory s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.DeviationTooLarge.selector, 1e18, 0.5e18, 500));
        o.submitTranchePrices(r, s);
        // within the deviation cap but beyond the 10 %/day mark-down rate (0.4167 % an hour)
        r = _report(2, _prices(1e18, 0.99e18, 1e18), T0 + 1 hours);
        s = _sigs(r, 2);
        uint256 minP = 1e18 - (1e18 * uint256(1_000) * 1 hours) / (10_000 * uint256(1 days));
        vm.expectRevert(abi.encodeWithSelector(Errors.MarkdownTooFast.selector, 1e18, 0.99e18, minP));
        o.submitTranchePrices(r, s);
        // a rise beyond 20 %/year
        r = _report(2, _prices(1.001e18, 1e18, 1e18), T0 + 1 hours);
        s = _sigs(r, 2);
        uint256 maxP = 1e18 + (1e18 * uint256(2_000) * 1 hours) / (10_000 * uint256(365 days));
        vm.expectRevert(abi.encodeWithSelector(Errors.GrowthTooFast.selector, 1e18, 1.001e18, maxP));
        o.submitTranchePrices(r, s);
        // at the bounds: accepted
        r = _report(2, _prices(maxP, minP, 1e18), T0 + 1 hours);
        _submit(r);
        // the guardian approves the large equity write-down; consumed on use
        vm.warp(T0 + 2 hours);
        r = _report(3, _prices(maxP, minP, 0.5e18), T0 + 2 hours);
        bytes32 d = o.trancheDigest(r);
        vm.prank(admin);
        o.approveReport(d, true);
        _submit(r);
        assertEq(o.tranchePrice(2), 0.5e18);
        assertFalse(o.guardianApproved(d));
        // same observation time without the guardian
        r = _report(4, _prices(maxP, minP, 0.5e18), T0 + 2 hours);
        s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.SameObservationTime.selector, T0 + 2 hours, T0 + 2 hours));
        o.submitTranchePrices(r, s);
    }

    function testFuzzPriceMovesWithinTheRatesAreAcceptedAndBeyondRejected(uint256 dt, uint256 p, uint256 j) public {
        dt = bound(dt, 1, 2 days - 1);
        j = bound(j, 0, 2);
        _submit(_report(1, _prices(1e18, 1e18, 1e18), T0));
        uint64 at = uint64(T0 + dt);
        vm.warp(at);
        p = bound(p, 0.9e18, 1.1e18);
        uint256[] memory ps = _prices(1e18, 1e18, 1e18);
        ps[j] = p;
        TranchePriceReport memory r = _report(2, ps, at);
        bytes[] memory s = _sigs(r, 2);
        uint256 up = (1e18 * uint256(2_000) * dt) / (10_000 * uint256(365 days));
        uint256 down = (1e18 * uint256(1_000) * dt) / (10_000 * uint256(1 days));
        bool dev = (p > 1e18 ? p - 1e18 : 1e18 - p) * 10_000 <= 500 * 1e18;
        bool ok = dev && (p > 1e18 ? p - 1e18 <= up : 1e18 - p <= down);
        if (!dev) {
            vm.expectRevert(abi.encodeWithSelector(Errors.DeviationTooLarge.selector, 1e18, p, 500));
        } else if (!ok && p > 1e18) {
            vm.expectRevert(abi.encodeWithSelector(Errors.GrowthTooFast.selector, 1e18, p, 1e18 + up));
        } else if (!ok) {
            vm.expectRevert(abi.encodeWithSelector(Errors.MarkdownTooFast.selector, 1e18, p, 1e18 - down));
        }
        o.submitTranchePrices(r, s);
        if (ok) assertEq(o.tranchePrice(j), p);
    }

    // L2/L3: the tranche count and each tranche's maximum price come from the constructor.
    function testTrancheCountAndMaxPricesAreFixedAtDeployment() public {
        assertEq(o.trancheCount(), 3);
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (1e18, 1e18);
        TranchePriceReport memory r = _report(1, two, T0);
        bytes[] memory s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidTrancheCount.selector, 2));
        o.submitTranchePrices(r, s);
        r = _report(1, _prices(1e18, 2e18 + 1, 1e18), T0);
        s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.PriceAboveMax.selector, 1, 2e18 + 1, 2e18));
        o.submitTranchePrices(r, s);
        _submit(_report(1, _prices(2e18, 2e18, 3e18), T0));
        assertEq(o.tranchePrice(2), 3e18);
        address[] memory signers = new address[](1);
        signers[0] = vm.addr(keys[0]);
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidTrancheCount.selector, 0));
        new TrancheOracle(admin, POOL, ITranchedPoolView(address(pool)), "x", signers, 1, 2 days, 500, new uint256[](0));
        vm.expectRevert(abi.encodeWithSelector(Errors.InvalidMaxPrice.selector, 1, 0));
        new TrancheOracle(admin, POOL, ITranchedPoolView(address(pool)), "x", signers, 1, 2 days, 500, _prices(1e18, 0, 1e18));
        vm.expectRevert(Errors.ZeroAddress.selector);
        new TrancheOracle(admin, POOL, ITranchedPoolView(address(0)), "x", signers, 1, 2 days, 500, _prices(1, 1, 1));
    }

    // Review finding M1: a price is for one pool period. Once the pool closes a period (here one
    // paying 140 of the senior's 700 back), the last period's prices fail closed, a report for
    // another period than the pool's is refused, and the new period's prices are held to the
    // rates against the last price rebased to the new balance (1.0 x 560 / 700 = 0.8), so the
    // stale par price is a 25 % move, not "no move".
    function testPricesAreForThePoolsCurrentPeriod() public {
        _submit(_report(1, _prices(1e18, 1e18, 1e18), T0));
        TranchePriceReport memory r = _reportAt(2, 1, _prices(1e18, 1e18, 1e18), T0 + 60);
        bytes[] memory s = _sigs(r, 2);
        vm.warp(T0 + 60);
        vm.expectRevert(abi.encodeWithSelector(Errors.WrongPeriod.selector, 0, 1));
        o.submitTranchePrices(r, s);
        // the servicer closes period 1 in the same minute: 12 interest, 140 principal
        vm.prank(payer);
        aid.transfer(address(pool), 152e18);
        vm.prank(servicer);
        pool.closePeriod(140e18, 1000e18, 0);
        assertEq(pool.period(), 1);
        assertEq(pool.trancheBalance(0), 560e18);
        assertFalse(o.isTranchePriceFresh(), "fresh in time, but for period 0");
        vm.expectRevert(abi.encodeWithSelector(Errors.WrongPeriod.selector, 1, 0));
        o.tranchePrice(0);
        vm.expectRevert(abi.encodeWithSelector(Errors.WrongPeriod.selector, 1, 0));
        o.tranchePrice(2);
        // a (fresh, signed) report of period 0 is refused now
        r = _reportAt(2, 0, _prices(1e18, 1e18, 1e18), T0 + 60);
        s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.WrongPeriod.selector, 1, 0));
        o.submitTranchePrices(r, s);
        // the old par price for the paid-down senior is a 25 % move from the rebased 0.8
        r = _reportAt(2, 1, _prices(1e18, 1e18, 1e18), T0 + 60);
        s = _sigs(r, 2);
        vm.expectRevert(abi.encodeWithSelector(Errors.DeviationTooLarge.selector, 0.8e18, 1e18, 500));
        o.submitTranchePrices(r, s);
        // 0.8 is no move at all (the mezzanine and equity balances did not change)
        _submit(_reportAt(2, 1, _prices(0.8e18, 1e18, 1e18), T0 + 60));
        assertTrue(o.isTranchePriceFresh());
        assertEq(o.tranchePrice(0), 0.8e18);
        assertEq(o.tranchePrice(2), 1e18);
        assertEq(o.latestTranchePrices().period, 1);
    }
}
