// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./Test.sol";
import {ValuationOracle, ValuationReport} from "../../src/ValuationOracle.sol";

/// @notice Shared fixture: an oracle with five signers (keys 0x51..0x55), quorum 3, and helpers
/// to build and sign reports.
abstract contract OracleSigning is Test {
    bytes32 internal constant SAID_ID = keccak256("sAID");
    uint256 internal constant N_SIGNERS = 5;
    uint256 internal constant QUORUM = 3;
    uint64 internal constant MAX_AGE = 2 days;
    uint16 internal constant MAX_DEV_BPS = 500; // 5 %
    uint256 internal constant T0 = 1_800_000_000;

    address internal admin = address(0xAD);
    uint256[] internal signerKeys;
    address[] internal signerAddrs;

    function _deployOracle(uint8 loanDecimals, uint8 collateralDecimals) internal returns (ValuationOracle o) {
        if (signerKeys.length == 0) {
            for (uint256 i = 0; i < N_SIGNERS; i++) {
                signerKeys.push(0x51 + i);
                signerAddrs.push(vm.addr(0x51 + i));
            }
        }
        o = new ValuationOracle(
            admin, SAID_ID, "sAID / AID NAV", loanDecimals, collateralDecimals, signerAddrs, QUORUM, MAX_AGE, MAX_DEV_BPS
        );
    }

    function _report(uint64 round, uint256 nav, uint256 deployed) internal view returns (ValuationReport memory r) {
        r = ValuationReport({
            asset: SAID_ID,
            navPerShare: nav,
            deployedValue: deployed,
            haircutBps: 1_000,
            ltvBps: 8_000,
            observedAt: uint64(block.timestamp),
            validUntil: uint64(block.timestamp + 1 days),
            runId: keccak256(abi.encode("run", round)),
            round: round
        });
    }

    function _sig(uint256 key, bytes32 d) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, d);
        return abi.encodePacked(r, s, v);
    }

    /// @dev Signatures by the first `k` signers.
    function _sign(ValuationOracle o, ValuationReport memory rep, uint256 k) internal view returns (bytes[] memory sigs) {
        bytes32 d = o.digest(rep);
        sigs = new bytes[](k);
        for (uint256 i = 0; i < k; i++) {
            sigs[i] = _sig(signerKeys[i], d);
        }
    }

    function _submit(ValuationOracle o, ValuationReport memory rep) internal {
        o.submit(rep, _sign(o, rep, QUORUM));
    }

    /// @dev Submits the next round at `nav`, observed now, pre-approved by the guardian if
    /// needed (so tests can move NAV arbitrarily).
    function _push(ValuationOracle o, uint256 nav, uint256 deployed) internal {
        ValuationReport memory rep = _report(o.latestRound() + 1, nav, deployed);
        bytes32 d = o.digest(rep);
        vm.prank(admin);
        o.approveReport(d, true);
        _submit(o, rep);
    }
}
