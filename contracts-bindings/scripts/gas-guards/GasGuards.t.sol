// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OracleSigning} from "./utils/OracleSigning.sol";
import {ValuationOracle} from "../src/ValuationOracle.sol";

/// @notice Issue 15's guard costs, before and after: the same scenario on the contracts before
/// the guards (8e502ca^) and now, run by scripts/gas-guards.sh with `forge test --isolate
/// --gas-report` (each call its own transaction, so storage is cold as on chain). Round 1, then
/// a day later round 2 at +0.01 % (within the deviation and growth caps), then the fresh prices.
/// Only the files both versions share are used (OracleSigning, the constructor, submit, price).
contract GasGuardsTest is OracleSigning {
    function testGas() public {
        vm.warp(T0);
        ValuationOracle o = _deployOracle(18, 24);
        _submit(o, _report(1, 1e18, 5e18));
        vm.warp(T0 + 1 days);
        _submit(o, _report(2, 1.0001e18, 5e18));
        o.price();
        o.latestRoundData();
    }
}
