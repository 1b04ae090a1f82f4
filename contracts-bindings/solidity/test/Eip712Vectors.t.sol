// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {ValuationOracle, ValuationReport} from "../src/ValuationOracle.sol";

/// @notice Pins the EIP-712 encoding of a ValuationReport to the vectors in
/// contracts-bindings/artifacts/eip712-vectors.json, which the Rust signer checks against the
/// same file (structHash, domainSeparator, digest and the deterministic RFC-6979 signature).
contract Eip712VectorsTest is Test {
    string internal constant PATH = "../artifacts/eip712-vectors.json";

    function _oracle(address signer) internal returns (ValuationOracle o) {
        address[] memory signers = new address[](1);
        signers[0] = signer;
        o = new ValuationOracle(address(0xAD), keccak256("sAID"), "sAID / AID NAV", 18, 24, signers, 1, 2 days, 500);
    }

    function testReportEncodingMatchesCheckedInVectors() public {
        string memory json = vm.readFile(PATH);
        uint256 key = vm.parseJsonUint(json, ".signerKey");
        ValuationReport memory r = ValuationReport({
            asset: vm.parseJsonBytes32(json, ".report.asset"),
            navPerShare: vm.parseJsonUint(json, ".report.navPerShare"),
            deployedValue: vm.parseJsonUint(json, ".report.deployedValue"),
            haircutBps: uint16(vm.parseJsonUint(json, ".report.haircutBps")),
            ltvBps: uint16(vm.parseJsonUint(json, ".report.ltvBps")),
            observedAt: uint64(vm.parseJsonUint(json, ".report.observedAt")),
            validUntil: uint64(vm.parseJsonUint(json, ".report.validUntil")),
            runId: vm.parseJsonBytes32(json, ".report.runId"),
            round: uint64(vm.parseJsonUint(json, ".report.round"))
        });
        vm.chainId(vm.parseJsonUint(json, ".domain.chainId"));
        ValuationOracle o = _oracle(vm.addr(key));
        assertEq(address(o), vm.parseJsonAddress(json, ".domain.verifyingContract"), "oracle address");
        assertEq(vm.addr(key), vm.parseJsonAddress(json, ".signer"), "signer");
        assertEq(o.REPORT_TYPEHASH(), vm.parseJsonBytes32(json, ".typeHash"), "typeHash");
        assertEq(o.structHash(r), vm.parseJsonBytes32(json, ".structHash"), "structHash");
        assertEq(o.domainSeparator(), vm.parseJsonBytes32(json, ".domainSeparator"), "domainSeparator");
        bytes32 d = o.digest(r);
        assertEq(d, vm.parseJsonBytes32(json, ".digest"), "digest");
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, d);
        bytes memory sig = abi.encodePacked(rr, s, v);
        assertEq(keccak256(sig), keccak256(vm.parseJsonBytes(json, ".signature")), "signature");
        vm.warp(r.observedAt);
        bytes[] memory sigs = new bytes[](1);
        // rounds are sequential: rounds 1 .. r.round - 1 first (same NAV, observed 1 s apart)
        for (uint64 i = 1; i < r.round; i++) {
            ValuationReport memory e = ValuationReport({
                asset: r.asset,
                navPerShare: r.navPerShare,
                deployedValue: r.deployedValue,
                haircutBps: r.haircutBps,
                ltvBps: r.ltvBps,
                observedAt: r.observedAt - (r.round - i),
                validUntil: r.validUntil,
                runId: r.runId,
                round: i
            });
            bytes[] memory es = new bytes[](1);
            (v, rr, s) = vm.sign(key, o.digest(e));
            es[0] = abi.encodePacked(rr, s, v);
            o.submit(e, es);
        }
        sigs[0] = sig;
        o.submit(r, sigs);
        assertEq(uint256(o.latestRound()), uint256(r.round));
    }
}
