// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {AID} from "./AID.sol";
import {Errors} from "./Errors.sol";

/// @title AIDMinter
/// @notice Mints AID 1:1 against one accepted stablecoin and redeems AID back into it.
/// `scale = 10^(18 - stablecoin decimals)`: depositing `s` stablecoin units mints `s * scale`
/// AID wei; redeeming `a` AID wei pays `floor(a / scale)` stablecoin units and burns exactly
/// `floor(a / scale) * scale` AID (the sub-unit dust stays with the caller, never burned unpaid).
/// @dev Invariant (when this is AID's only minter): AID.totalSupply() <= stablecoin reserves * scale.
contract AIDMinter is ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice The AID token (this contract must hold its MINTER_ROLE).
    AID public immutable aid;
    /// @notice The accepted stablecoin.
    IERC20 public immutable stablecoin;
    /// @notice 10^(18 - stablecoin decimals).
    uint256 public immutable scale;

    /// @notice `payer` deposited `stableAmount` and `receiver` got `aidAmount`.
    event Minted(address indexed payer, address indexed receiver, uint256 stableAmount, uint256 aidAmount);
    /// @notice `redeemer` burned `aidAmount` and `receiver` got `stableAmount`.
    event Redeemed(address indexed redeemer, address indexed receiver, uint256 aidAmount, uint256 stableAmount);

    /// @param aid_ The AID token.
    /// @param stablecoin_ The accepted stablecoin (<= 18 decimals).
    constructor(AID aid_, IERC20Metadata stablecoin_) {
        if (address(aid_) == address(0) || address(stablecoin_) == address(0)) revert Errors.ZeroAddress();
        uint8 d = stablecoin_.decimals();
        if (d > 18) revert Errors.UnsupportedDecimals(d);
        aid = aid_;
        stablecoin = IERC20(address(stablecoin_));
        scale = 10 ** (18 - uint256(d));
    }

    /// @notice Pulls `stableAmount` stablecoin from the caller and mints `stableAmount * scale` AID.
    /// @param stableAmount Stablecoin units to deposit (> 0; caller must have approved them).
    /// @param receiver Receiver of the AID.
    /// @return aidAmount AID minted.
    function mint(uint256 stableAmount, address receiver) external nonReentrant returns (uint256 aidAmount) {
        if (stableAmount == 0) revert Errors.ZeroAmount();
        if (receiver == address(0)) revert Errors.ZeroAddress();
        uint256 before = stablecoin.balanceOf(address(this));
        stablecoin.safeTransferFrom(msg.sender, address(this), stableAmount);
        // mint against what actually arrived (defends against fee-on-transfer stablecoins)
        uint256 received = stablecoin.balanceOf(address(this)) - before;
        aidAmount = received * scale;
        aid.mint(receiver, aidAmount);
        emit Minted(msg.sender, receiver, received, aidAmount);
    }

    /// @notice Burns AID from the caller and pays the stablecoin back: pays `floor(aidAmount / scale)`
    /// units and takes exactly that many units times `scale` of AID.
    /// @param aidAmount AID to redeem (>= scale; caller must have approved the minter).
    /// @param receiver Receiver of the stablecoin.
    /// @return stableAmount Stablecoin paid.
    function redeem(uint256 aidAmount, address receiver) external nonReentrant returns (uint256 stableAmount) {
        if (receiver == address(0)) revert Errors.ZeroAddress();
        stableAmount = aidAmount / scale;
        if (stableAmount == 0) revert Errors.RedeemBelowUnit(aidAmount, scale);
        uint256 burned = stableAmount * scale;
        IERC20(address(aid)).safeTransferFrom(msg.sender, address(this), burned);
        aid.burn(burned);
        stablecoin.safeTransfer(receiver, stableAmount);
        emit Redeemed(msg.sender, receiver, burned, stableAmount);
    }

    /// @notice Stablecoin reserves expressed in AID wei (reserves * scale).
    /// @return The scaled reserves.
    function reservesInAid() external view returns (uint256) {
        return stablecoin.balanceOf(address(this)) * scale;
    }
}
