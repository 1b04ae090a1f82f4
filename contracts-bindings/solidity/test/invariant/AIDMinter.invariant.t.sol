// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, CommonBase} from "../utils/Test.sol";
import {AID} from "../../src/AID.sol";
import {AIDMinter} from "../../src/AIDMinter.sol";
import {TestStablecoin} from "../../src/test-helpers/TestStablecoin.sol";

contract MinterHandler is CommonBase {
    AID internal aid;
    AIDMinter internal minter;
    TestStablecoin internal usdc;
    address[3] internal actors = [address(0xA1), address(0xA2), address(0xA3)];

    constructor(AID aid_, AIDMinter minter_, TestStablecoin usdc_) {
        aid = aid_;
        minter = minter_;
        usdc = usdc_;
        for (uint256 i = 0; i < 3; i++) {
            vm.startPrank(actors[i]);
            usdc.approve(address(minter), type(uint256).max);
            aid.approve(address(minter), type(uint256).max);
            vm.stopPrank();
        }
    }

    function mint(uint256 who, uint256 amount) external {
        address a = actors[who % 3];
        amount = 1 + amount % 1e15;
        usdc.mint(a, amount);
        vm.prank(a);
        minter.mint(amount, a);
    }

    function redeem(uint256 who, uint256 amount) external {
        address a = actors[who % 3];
        uint256 bal = aid.balanceOf(a);
        if (bal < 1e12) return;
        amount = 1e12 + amount % (bal - 1e12 + 1);
        vm.prank(a);
        minter.redeem(amount, a);
    }

    function transfer(uint256 from, uint256 to, uint256 amount) external {
        address a = actors[from % 3];
        uint256 bal = aid.balanceOf(a);
        if (bal == 0) return;
        vm.prank(a);
        aid.transfer(actors[to % 3], amount % (bal + 1));
    }

    /// @dev Someone sends stablecoin to the minter without minting (donation): reserves only grow.
    function donate(uint256 amount) external {
        usdc.mint(address(minter), amount % 1e12);
    }
}

/// @notice AID supply never exceeds the minter's stablecoin reserves (scaled to 18 decimals).
contract AIDMinterInvariantTest is Test {
    AID internal aid;
    AIDMinter internal minter;
    TestStablecoin internal usdc;
    MinterHandler internal handler;

    function setUp() public {
        aid = new AID(address(this));
        usdc = new TestStablecoin("Test USD", "tUSD", 6);
        minter = new AIDMinter(aid, usdc);
        aid.grantRole(aid.MINTER_ROLE(), address(minter));
        handler = new MinterHandler(aid, minter, usdc);
        targetContract(address(handler));
    }

    function invariant_supplyNeverExceedsReserves() public view {
        assertLe(aid.totalSupply(), usdc.balanceOf(address(minter)) * minter.scale(), "AID supply > reserves");
    }
}
