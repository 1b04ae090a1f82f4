// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OracleSigning} from "../utils/OracleSigning.sol";
import {CommonBase} from "../utils/Test.sol";
import {ValuationOracle, ValuationReport} from "../../src/ValuationOracle.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Drives the oracle with fuzzed submissions: each is a valid report (about 40 %) or a
/// valid report with exactly one defect. Counts accepted defective reports and rejected valid
/// ones; both must stay zero.
contract OracleHandler is CommonBase {
    ValuationOracle public immutable oracle;
    uint256[] internal keys; // keys[0..4] authorised, keys[5] unknown
    uint256 public accepted;
    uint256 public acceptedBad; // a defective report got through
    uint256 public rejectedGood; // a valid report was refused
    uint64 public lastAcceptedRound;
    uint64 public lastObservedAt;
    uint256 public lastNav;

    uint256 internal constant DEFECTS = 17;

    constructor(ValuationOracle oracle_, uint256[] memory keys_) {
        oracle = oracle_;
        keys = keys_;
    }

    /// @dev Advances time a little.
    function warp(uint256 dt) external {
        vm.warp(block.timestamp + (dt % 1 days));
    }

    function _sig(uint256 key, bytes32 d) internal pure returns (bytes memory) {
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, d);
        return abi.encodePacked(rr, s, v);
    }

    function _rand(uint256 seed, uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, i)));
    }

    /// @dev The most the NAV may move from `lastNav` at `bps` per `period` of observation time
    /// until `observedAt` (rounded down, as the oracle).
    function _allowance(uint256 bps, uint256 period, uint64 observedAt) internal view returns (uint256) {
        return lastNav * bps * (observedAt - lastObservedAt) / (10_000 * period);
    }

    /// @dev A valid report for the current state, derived from `seed`.
    function _validReport(uint256 seed) internal view returns (ValuationReport memory r) {
        uint64 last = oracle.latestRound();
        uint64 maxAge = oracle.maxAge();
        uint64 nowTs = uint64(block.timestamp);
        // strictly after the last observation (the same-timestamp rule); the caller warped so
        // that one exists
        uint64 minObs = lastObservedAt + 1 > nowTs - maxAge ? lastObservedAt + 1 : nowTs - maxAge;
        if (lastObservedAt == 0) minObs = nowTs - maxAge;
        uint64 observedAt = nowTs - uint64(_rand(seed, 4) % (nowTs - minObs + 1));
        uint256 base = lastNav == 0 ? 1e18 : lastNav;
        uint256 downMax = base * oracle.maxDeviationBps() / 10_000;
        uint256 upMax = downMax;
        if (lastNav != 0) {
            upMax = Math.min(upMax, _allowance(oracle.maxGrowthBpsPerYear(), 365 days, observedAt));
            downMax = Math.min(downMax, _allowance(oracle.maxMarkdownBpsPerDay(), 1 days, observedAt));
        }
        uint256 down = _rand(seed, 1) % (downMax + 1);
        uint256 up = _rand(seed, 7) % (upMax + 1);
        r = ValuationReport({
            asset: keccak256("sAID"),
            navPerShare: _rand(seed, 2) % 2 == 0 ? base + up : base - down,
            deployedValue: _rand(seed, 3) % 1e24,
            haircutBps: 100,
            ltvBps: 7_000,
            observedAt: observedAt,
            validUntil: nowTs + uint64(_rand(seed, 5) % 3 days),
            runId: bytes32(seed),
            round: last + 1
        });
    }

    /// @param defect 0 (and 12..19): valid; 1 replayed round; 2 older round; 3 future observedAt;
    /// 4 older than maxAge; 5 expired (validUntil < now); 6 one signature short of quorum;
    /// 7 duplicate signer; 8 unknown signer; 9 NAV beyond maxDeviationBps; 10 observedAt before
    /// the last report's; 11 another asset; 12 a skipped round (latestRound + 2); 13 observed at
    /// the last report's time; 14 NAV rising faster than maxGrowthBpsPerYear; 15 NAV falling
    /// faster than maxMarkdownBpsPerDay; 16 navPerShare above maxNavPerShare or deployedValue
    /// above MAX_VALUE, pre-approved by the guardian (the bound holds even then).
    /// @param seed Source of every other choice.
    function submit(uint8 defect, uint256 seed) external {
        defect = uint8(defect % 24);
        if (defect >= DEFECTS) defect = 0;
        if (lastObservedAt >= block.timestamp) vm.warp(block.timestamp + 1); // room for a valid one
        ValuationReport memory r = _validReport(seed);
        uint64 last = oracle.latestRound();
        uint64 nowTs = uint64(block.timestamp);
        uint256 q = oracle.quorum();
        uint256 nSigs = q + _rand(seed, 7) % (5 - q + 1); // q..5 distinct authorised signers
        if (defect == 1) r.round = last;
        if (defect == 2) r.round = last == 0 ? 0 : uint64(_rand(seed, 8) % last);
        if (defect == 3) r.observedAt = nowTs + 1 + uint64(_rand(seed, 8) % 1 days);
        if (defect == 4) r.observedAt = nowTs - oracle.maxAge() - 1 - uint64(_rand(seed, 8) % 1 days);
        if (defect == 5) {
            r.validUntil = nowTs - 1;
            if (r.observedAt > r.validUntil) r.observedAt = r.validUntil;
            if (r.observedAt < lastObservedAt) defect = 0; // would be a second defect: skip
        }
        if (defect == 6) nSigs = q - 1;
        if (defect == 9) {
            uint256 base = lastNav == 0 ? 1e18 : lastNav;
            uint256 over = base * oracle.maxDeviationBps() / 10_000 + 1 + _rand(seed, 8) % 1e17;
            if (lastNav == 0) defect = 0; // no previous report: nothing to deviate from
            else r.navPerShare = _rand(seed, 9) % 2 == 0 ? base + over : (over < base ? base - over : 1);
        }
        if (defect == 10) {
            if (lastObservedAt == 0 || lastObservedAt - 1 + oracle.maxAge() < nowTs) defect = 0; // not expressible alone
            else r.observedAt = lastObservedAt - 1;
        }
        if (defect == 11) r.asset = keccak256("other");
        if (defect == 12) r.round = last + 2;
        if (defect == 13) {
            if (lastObservedAt == 0 || lastObservedAt + oracle.maxAge() < nowTs) defect = 0;
            else r.observedAt = lastObservedAt;
            if (defect == 13 && r.navPerShare > lastNav) r.navPerShare = lastNav; // only this defect
        }
        if (defect == 14 || defect == 15) {
            // one wei beyond the growth (14) or mark-down (15) allowance
            uint256 allowed = defect == 14
                ? _allowance(oracle.maxGrowthBpsPerYear(), 365 days, r.observedAt)
                : _allowance(oracle.maxMarkdownBpsPerDay(), 1 days, r.observedAt);
            // within the deviation cap and above zero, or it would be a second defect
            if (lastNav == 0 || (allowed + 1) * 10_000 > lastNav * oracle.maxDeviationBps()) defect = 0;
            else r.navPerShare = defect == 14 ? lastNav + allowed + 1 : lastNav - allowed - 1;
        }
        if (defect == 16) {
            if (_rand(seed, 11) % 2 == 0) {
                r.navPerShare = oracle.maxNavPerShare() + 1 + _rand(seed, 12) % 1e30;
            } else {
                r.deployedValue = oracle.MAX_VALUE() + 1 + _rand(seed, 12) % 1e30;
            }
            oracle.approveReport(oracle.digest(r), true);
        }
        _try(r, defect, nSigs, _rand(seed, 10));
    }

    function _try(ValuationReport memory r, uint8 defect, uint256 nSigs, uint256 rot) internal {
        bytes32 d = oracle.digest(r);
        bytes[] memory sigs = new bytes[](nSigs);
        for (uint256 i = 0; i < nSigs; i++) {
            sigs[i] = _sig(keys[(i + rot) % 5], d); // distinct authorised signers, rotated order
        }
        if (defect == 7) sigs[nSigs - 1] = sigs[0];
        if (defect == 8) sigs[nSigs - 1] = _sig(keys[5], d);
        try oracle.submit(r, sigs) {
            accepted++;
            if (defect != 0) acceptedBad++;
            lastAcceptedRound = r.round;
            lastObservedAt = r.observedAt;
            lastNav = r.navPerShare;
        } catch {
            if (defect == 0) rejectedGood++;
        }
    }
}

/// @notice The oracle never accepts a replayed, older, stale, future-dated, under-signed,
/// duplicate/unknown-signed, out-of-deviation or foreign report, accepts every valid one, and its
/// round is always the last accepted one.
contract ValuationOracleInvariantTest is OracleSigning {
    ValuationOracle internal oracle;
    OracleHandler internal handler;

    function setUp() public {
        vm.warp(T0);
        oracle = _deployOracle(18, 24);
        uint256[] memory keys = new uint256[](6);
        for (uint256 i = 0; i < 5; i++) keys[i] = signerKeys[i];
        keys[5] = 0xBAD;
        handler = new OracleHandler(oracle, keys);
        bytes32 guardian = oracle.GUARDIAN_ROLE();
        vm.prank(admin);
        oracle.grantRole(guardian, address(handler)); // for defect 16 only
        targetContract(address(handler));
    }

    /// Once a report exists, the lenders' reads never revert and never go negative.
    function invariant_pricesNeverRevert() public view {
        if (oracle.latestRound() == 0) return;
        uint256 p = oracle.price();
        (, int256 answer,,,) = oracle.latestRoundData();
        assertGe(uint256(answer >= 0 ? 1 : 0), 1, "negative answer");
        assertEq(p, uint256(answer) * oracle.priceScale() / oracle.priceDivisor(), "price and answer disagree");
    }

    function invariant_noInvalidReportAccepted() public view {
        assertEq(handler.acceptedBad(), 0, "a replayed, older, stale, future, under-signed, duplicate/unknown-signed, out-of-deviation or foreign report was accepted");
    }

    function invariant_everyValidReportAccepted() public view {
        assertEq(handler.rejectedGood(), 0, "a valid report was rejected");
    }

    function invariant_latestRoundIsLastAccepted() public view {
        assertEq(uint256(oracle.latestRound()), uint256(handler.lastAcceptedRound()), "round mismatch");
    }
}
