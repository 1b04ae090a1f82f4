// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OracleSigning} from "./utils/OracleSigning.sol";
import {ValuationOracle, ValuationReport} from "../src/ValuationOracle.sol";

/// @notice Issue 15's new paths (current contracts only), run by scripts/gas-guards.sh: round 1,
/// a day later a guardian-approved round 2 at +20 % (beyond every cap), then, a day after the
/// report went stale, the decaying lenders' price and `isFresh`.
contract GasGuardsNewTest is OracleSigning {
    function testGasNewOnly() public {
        vm.warp(T0);
        ValuationOracle o = _deployOracle(18, 24);
        _submit(o, _report(1, 1e18, 5e18));
        vm.warp(T0 + 1 days);
        ValuationReport memory rep = _report(2, 1.2e18, 5e18);
        bytes32 d = o.digest(rep);
        vm.prank(admin);
        o.approveReport(d, true);
        _submit(o, rep);
        vm.warp(T0 + 2 days + MAX_AGE);
        o.price();
        o.isFresh();
    }
}
