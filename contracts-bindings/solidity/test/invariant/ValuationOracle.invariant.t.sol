// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OracleSigning} from "../utils/OracleSigning.sol";
import {CommonBase} from "../utils/Test.sol";
import {ValuationOracle, ValuationReport} from "../../src/ValuationOracle.sol";

/// @notice Drives the oracle with fuzzed, often invalid, submissions and records every accepted
/// report together with the conditions it had to satisfy.
contract OracleHandler is CommonBase {
    ValuationOracle public immutable oracle;
    uint256[] internal keys;
    uint256 public accepted;
    uint256 public violations;
    uint64 public lastAcceptedRound;
    uint64 public lastObservedAt;
    uint256 public lastNav;

    constructor(ValuationOracle oracle_, uint256[] memory keys_) {
        oracle = oracle_;
        keys = keys_;
    }

    /// @dev Advances time a little.
    function warp(uint256 dt) external {
        vm.warp(block.timestamp + (dt % 3 days));
    }

    /// @dev Submits a report whose fields and signer set are derived from the fuzz inputs:
    /// round may go backwards/replay, timestamps may be stale or in the future, the signer list
    /// may be short, contain duplicates or unknown keys, NAV may jump.
    function submit(uint64 roundDelta, int64 obsOffset, uint64 validity, uint256 nav, uint256 signerMask, uint8 dupe)
        external
    {
        uint64 last = oracle.latestRound();
        uint64 round = roundDelta % 4 == 0 ? last : last + uint64(roundDelta % 3); // 0: replay, +0/+1/+2
        int256 obs = int256(block.timestamp) + (int256(obsOffset) % int256(uint256(4 days)));
        if (obs < 0) obs = 0;
        nav = 0.5e18 + (nav % 1e18);
        ValuationReport memory r = ValuationReport({
            asset: keccak256("sAID"),
            navPerShare: nav,
            deployedValue: nav * 3,
            haircutBps: 100,
            ltvBps: 7_000,
            observedAt: uint64(uint256(obs)),
            validUntil: uint64(uint256(obs)) + validity % 3 days,
            runId: bytes32(uint256(round)),
            round: round
        });
        bytes32 d = oracle.digest(r);
        // signer set: bits of signerMask over keys (5 authorised + 1 unknown at index 5)
        uint256 n;
        for (uint256 i = 0; i < keys.length; i++) if ((signerMask >> i) & 1 == 1) n++;
        bool withDupe = dupe % 5 == 0 && n > 0;
        bytes[] memory sigs = new bytes[](withDupe ? n + 1 : n);
        uint256 k;
        bool unknown;
        for (uint256 i = 0; i < keys.length; i++) {
            if ((signerMask >> i) & 1 == 1) {
                (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], d);
                sigs[k++] = abi.encodePacked(rr, s, v);
                if (!oracle.isSigner(vm.addr(keys[i]))) unknown = true;
            }
        }
        if (withDupe) sigs[k] = sigs[0];
        try oracle.submit(r, sigs) {
            accepted++;
            bool bad = round <= lastAcceptedRound || n < oracle.quorum() || unknown || withDupe
                || r.observedAt > block.timestamp || block.timestamp > r.validUntil
                || block.timestamp > uint256(r.observedAt) + oracle.maxAge() || r.observedAt < lastObservedAt;
            if (lastNav != 0) {
                uint256 diff = nav > lastNav ? nav - lastNav : lastNav - nav;
                if (diff * 10_000 > lastNav * oracle.maxDeviationBps()) bad = true;
            }
            if (bad) violations++;
            lastAcceptedRound = round;
            lastObservedAt = r.observedAt;
            lastNav = nav;
        } catch {}
    }
}

/// @notice The oracle never accepts a replayed, older, stale, future-dated, under-signed,
/// duplicate/unknown-signed or out-of-deviation report, and its round never decreases.
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
        targetContract(address(handler));
    }

    function invariant_noInvalidReportAccepted() public view {
        assertEq(handler.violations(), 0, "an invalid report was accepted");
    }

    function invariant_latestRoundIsLastAccepted() public view {
        assertEq(uint256(oracle.latestRound()), uint256(handler.lastAcceptedRound()), "round mismatch");
    }
}
