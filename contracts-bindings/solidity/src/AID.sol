// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title AID
/// @notice gaib's dollar token: ERC-20 with ERC-2612 permit, 18 decimals. Minted 1:1 against an
/// accepted stablecoin by {AIDMinter} (the MINTER_ROLE holder) and burned on redemption.
/// Pausable by PAUSER_ROLE (pausing stops transfers, mints and burns).
contract AID is ERC20, ERC20Permit, ERC20Pausable, AccessControl {
    /// @notice May mint, and burn its own balance.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @notice May pause and unpause.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @param admin Holder of DEFAULT_ADMIN_ROLE and PAUSER_ROLE (grants MINTER_ROLE to the minter).
    constructor(address admin) ERC20("gaib AID", "AID") ERC20Permit("gaib AID") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /// @notice Mints `amount` AID to `to`. MINTER_ROLE only.
    /// @param to Receiver.
    /// @param amount Amount (18 decimals).
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @notice Burns `amount` of the caller's own AID. MINTER_ROLE only.
    /// @param amount Amount (18 decimals).
    function burn(uint256 amount) external onlyRole(MINTER_ROLE) {
        _burn(msg.sender, amount);
    }

    /// @notice Pauses transfers, mints and burns. PAUSER_ROLE only.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Unpauses. PAUSER_ROLE only.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Pausable) {
        super._update(from, to, value);
    }
}
