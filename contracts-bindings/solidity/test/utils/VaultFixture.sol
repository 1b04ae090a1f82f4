// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OracleSigning} from "./OracleSigning.sol";
import {AID} from "../../src/AID.sol";
import {SAID} from "../../src/SAID.sol";
import {ValuationOracle} from "../../src/ValuationOracle.sol";

/// @notice AID (the test contract is its minter), a signed oracle with a first report
/// (nav 1, deployedValue 0), and the sAID vault.
abstract contract VaultFixture is OracleSigning {
    AID internal aid;
    ValuationOracle internal oracle;
    SAID internal vault;
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal desk = address(0xDE5C);

    function _setUpVault() internal {
        vm.warp(T0);
        aid = new AID(address(this));
        aid.grantRole(aid.MINTER_ROLE(), address(this));
        oracle = _deployOracle(18, 24);
        _push(oracle, 1e18, 0);
        vault = new SAID(aid, oracle, admin);
        vm.label(address(vault), "sAID");
    }

    function _fund(address who, uint256 amount) internal {
        aid.mint(who, amount);
        vm.prank(who);
        aid.approve(address(vault), type(uint256).max);
    }

    function _deposit(address who, uint256 amount) internal returns (uint256 shares) {
        _fund(who, amount);
        vm.prank(who);
        shares = vault.deposit(amount, who);
    }

    /// @dev New report keeping the vault's idle part and setting deployedValue.
    function _report(uint256 deployed) internal {
        _push(oracle, 1e18, deployed);
    }

    function _toCycleEnd() internal {
        if (block.timestamp < vault.cycleEnd()) vm.warp(vault.cycleEnd());
    }

    /// @dev Keeps the oracle fresh at the current time with the same deployed value.
    function _refresh() internal {
        _push(oracle, 1e18, oracle.latestReport().deployedValue);
    }
}
