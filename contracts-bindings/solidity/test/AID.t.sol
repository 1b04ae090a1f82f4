// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {AID} from "../src/AID.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

contract AIDTest is Test {
    AID internal aid;
    address internal admin = address(0xAD);
    address internal minter = address(0x111);

    function setUp() public {
        aid = new AID(admin);
        bytes32 role = aid.MINTER_ROLE();
        vm.prank(admin);
        aid.grantRole(role, minter);
    }

    function testMetadata() public view {
        assertEq(uint256(aid.decimals()), 18);
        assertEq(aid.symbol(), "AID");
    }

    function testMintRequiresMinterRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), aid.MINTER_ROLE())
        );
        aid.mint(address(this), 1);
        vm.prank(minter);
        aid.mint(address(this), 5);
        assertEq(aid.balanceOf(address(this)), 5);
    }

    function testBurnRequiresMinterRoleAndBurnsOwnBalance() public {
        vm.prank(minter);
        aid.mint(minter, 10);
        vm.expectPartialRevert(IAccessControl.AccessControlUnauthorizedAccount.selector);
        aid.burn(1);
        vm.prank(minter);
        aid.burn(4);
        assertEq(aid.balanceOf(minter), 6);
        assertEq(aid.totalSupply(), 6);
    }

    function testPauseBlocksTransfersAndMints() public {
        vm.prank(minter);
        aid.mint(address(this), 10);
        vm.prank(admin);
        aid.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        aid.transfer(address(1), 1);
        vm.prank(minter);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        aid.mint(address(this), 1);
        vm.prank(admin);
        aid.unpause();
        aid.transfer(address(1), 1);
        assertEq(aid.balanceOf(address(1)), 1);
    }

    function testPauseRequiresPauserRole() public {
        vm.expectPartialRevert(IAccessControl.AccessControlUnauthorizedAccount.selector);
        aid.pause();
    }

    function testPermitSetsAllowanceFromSignature() public {
        uint256 ownerKey = 0xA11CE;
        address owner = vm.addr(ownerKey);
        address spender = address(0xB0B);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                spender,
                123,
                aid.nonces(owner),
                deadline
            )
        );
        bytes32 d = keccak256(abi.encodePacked("\x19\x01", aid.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, d);
        aid.permit(owner, spender, 123, deadline, v, r, s);
        assertEq(aid.allowance(owner, spender), 123);
        assertEq(aid.nonces(owner), 1);
        // replay fails
        vm.expectRevert();
        aid.permit(owner, spender, 123, deadline, v, r, s);
    }
}
