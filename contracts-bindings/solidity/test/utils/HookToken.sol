// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Called by `HookToken` before it moves tokens out of `hooked` (like an ERC-777
/// `tokensToSend` hook).
interface ITokenHook {
    function beforeTransfer() external;
}

/// @notice A mintable ERC-20 that calls `ITokenHook(hooked).beforeTransfer()` before moving
/// tokens from `hooked`, so tests can re-enter a vault mid-deposit.
contract HookToken is ERC20 {
    /// @notice The address whose outgoing transfers call its hook first (0: none).
    address public hooked;

    constructor() ERC20("Hook AID", "hAID") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setHooked(address who) external {
        hooked = who;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && from == hooked) ITokenHook(from).beforeTransfer();
        super._update(from, to, value);
    }
}
