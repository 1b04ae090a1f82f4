// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VaultFixture} from "./utils/VaultFixture.sol";

/// @notice Issue 20's bounds, before and after: the same vault scenario on the contracts before
/// them and now, run by scripts/gas-guards.sh with `forge test --isolate --gas-report` (each call
/// its own transaction, cold storage as on chain). Two deposits and a mint; a day later a report
/// at -1 % signed by 3 of 5 without the guardian (inside the deviation cap, and inside the new
/// mark-down limit); a poke; a redemption fulfilled at the cycle's end and claimed by
/// `withdraw(maxWithdraw)`; the views. Only what both versions share is used.
contract GasBoundsTest is VaultFixture {
    function testGasBounds() public {
        _setUpVault();
        _deposit(alice, 100e18);
        uint256 bobShares = _deposit(bob, 50e18);
        _fund(bob, 100e18);
        vm.prank(bob);
        vault.mint(10e24, bob);
        vm.warp(T0 + 1 days);
        _submit(oracle, _report(oracle.latestRound() + 1, 0.99e18, 0));
        vault.pokeGrowthCap();
        vm.prank(bob);
        vault.requestRedeem(bobShares, bob, bob);
        _toCycleEnd();
        _refresh();
        vault.fulfil(10);
        uint256 owed = vault.maxWithdraw(bob);
        vm.prank(bob);
        vault.withdraw(owed, bob, bob);
        vault.totalAssets();
        vault.convertToAssets(1e24);
        oracle.price();
    }
}
