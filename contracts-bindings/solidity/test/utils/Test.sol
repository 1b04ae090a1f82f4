// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The subset of Foundry's cheatcodes that gaib's tests use. forge-std is not available
/// from npm (its npm package needs the absent `ds-test`), so this is a small stand-in.
interface Vm {
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function addr(uint256 privateKey) external pure returns (address);
    function expectRevert() external;
    function expectRevert(bytes calldata revertData) external;
    /// @dev Exact match: the revert data must be exactly these 4 bytes (an error without args).
    function expectRevert(bytes4 revertData) external;
    /// @dev Matches only the selector of a custom error, whatever its arguments.
    function expectPartialRevert(bytes4 revertData) external;
    function expectEmit() external;
    function expectEmit(address emitter) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function assume(bool condition) external pure;
    function deal(address account, uint256 newBalance) external;
    function chainId(uint256 newChainId) external;
    function label(address account, string calldata newLabel) external;
    function toString(uint256 value) external pure returns (string memory);
    function toString(int256 value) external pure returns (string memory);
    function toString(address value) external pure returns (string memory);
    function toString(bytes32 value) external pure returns (string memory);
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
    function getBlockTimestamp() external view returns (uint256);
    function readFile(string calldata path) external view returns (string memory);
    function parseJsonUint(string calldata json, string calldata key) external pure returns (uint256);
    function parseJsonBytes32(string calldata json, string calldata key) external pure returns (bytes32);
    function parseJsonAddress(string calldata json, string calldata key) external pure returns (address);
    function parseJsonBytes(string calldata json, string calldata key) external pure returns (bytes memory);
    function parseJsonUintArray(string calldata json, string calldata key) external pure returns (uint256[] memory);
}

/// @notice Cheatcode handle shared by tests and invariant handlers.
abstract contract CommonBase {
    /// @dev Foundry's cheatcode address.
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
}

/// @notice Assertions that revert with a message, and `bound` for fuzz inputs.
abstract contract Assertions is CommonBase {
    function fail(string memory message) internal pure {
        revert(message);
    }

    function assertTrue(bool ok, string memory message) internal pure {
        if (!ok) revert(string.concat("assertTrue failed: ", message));
    }

    function assertTrue(bool ok) internal pure {
        assertTrue(ok, "");
    }

    function assertFalse(bool ok, string memory message) internal pure {
        if (ok) revert(string.concat("assertFalse failed: ", message));
    }

    function assertFalse(bool ok) internal pure {
        assertFalse(ok, "");
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) revert(string.concat("assertEq failed: ", vm.toString(a), " != ", vm.toString(b), " ", message));
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(int256 a, int256 b, string memory message) internal pure {
        if (a != b) revert(string.concat("assertEq failed: ", vm.toString(a), " != ", vm.toString(b), " ", message));
    }

    function assertEq(int256 a, int256 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) revert(string.concat("assertEq failed: ", vm.toString(a), " != ", vm.toString(b), " ", message));
    }

    function assertEq(address a, address b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        if (a != b) revert(string.concat("assertEq failed: ", vm.toString(a), " != ", vm.toString(b), " ", message));
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(bool a, bool b, string memory message) internal pure {
        if (a != b) revert(string.concat("assertEq(bool) failed: ", message));
    }

    function assertEq(bool a, bool b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(string memory a, string memory b, string memory message) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) {
            revert(string.concat("assertEq failed: '", a, "' != '", b, "' ", message));
        }
    }

    function assertEq(string memory a, string memory b) internal pure {
        assertEq(a, b, "");
    }

    function assertLe(uint256 a, uint256 b, string memory message) internal pure {
        if (a > b) revert(string.concat("assertLe failed: ", vm.toString(a), " > ", vm.toString(b), " ", message));
    }

    function assertLe(uint256 a, uint256 b) internal pure {
        assertLe(a, b, "");
    }

    function assertGe(uint256 a, uint256 b, string memory message) internal pure {
        if (a < b) revert(string.concat("assertGe failed: ", vm.toString(a), " < ", vm.toString(b), " ", message));
    }

    function assertGe(uint256 a, uint256 b) internal pure {
        assertGe(a, b, "");
    }

    function assertLt(uint256 a, uint256 b, string memory message) internal pure {
        if (a >= b) revert(string.concat("assertLt failed: ", vm.toString(a), " >= ", vm.toString(b), " ", message));
    }

    function assertLt(uint256 a, uint256 b) internal pure {
        assertLt(a, b, "");
    }

    function assertGt(uint256 a, uint256 b, string memory message) internal pure {
        if (a <= b) revert(string.concat("assertGt failed: ", vm.toString(a), " <= ", vm.toString(b), " ", message));
    }

    function assertGt(uint256 a, uint256 b) internal pure {
        assertGt(a, b, "");
    }

    function assertApproxEqAbs(uint256 a, uint256 b, uint256 maxDelta, string memory message) internal pure {
        uint256 d = a > b ? a - b : b - a;
        if (d > maxDelta) {
            revert(
                string.concat(
                    "assertApproxEqAbs failed: ", vm.toString(a), " vs ", vm.toString(b), " delta ", vm.toString(d), " ", message
                )
            );
        }
    }

    /// @dev Maps `x` into [lo, hi]: returned unchanged when already inside, else wrapped modulo the
    /// range size. Fuzz inputs are shaped with it instead of `assume`, so no runs are discarded.
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        require(lo <= hi, "bound: hi < lo");
        if (x >= lo && x <= hi) return x;
        uint256 size = hi - lo + 1; // cannot overflow unless lo = 0 and hi = max, handled above
        return lo + (x % size);
    }
}

/// @notice Base of every gaib test contract: cheatcodes, assertions and invariant targeting.
/// @dev forge discovers `test*`, fuzz and `invariant_*` functions by name; for invariant runs it
/// calls the `target*`/`exclude*` getters below (same selectors as forge-std's StdInvariant).
abstract contract Test is Assertions {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    struct FuzzArtifactSelector {
        string artifact;
        bytes4[] selectors;
    }

    struct FuzzInterface {
        address addr;
        string[] artifacts;
    }

    address[] private _targetedContracts;
    address[] private _excludedContracts;
    address[] private _targetedSenders;
    address[] private _excludedSenders;
    FuzzSelector[] private _targetedSelectors;
    FuzzSelector[] private _excludedSelectors;
    string[] private _targetedArtifacts;
    string[] private _excludedArtifacts;
    FuzzArtifactSelector[] private _targetedArtifactSelectors;
    FuzzInterface[] private _targetedInterfaces;

    /// @dev Marker some tools look for.
    bool public IS_TEST = true;

    function targetContract(address c) internal {
        _targetedContracts.push(c);
    }

    function excludeContract(address c) internal {
        _excludedContracts.push(c);
    }

    function targetSender(address s) internal {
        _targetedSenders.push(s);
    }

    function excludeSender(address s) internal {
        _excludedSenders.push(s);
    }

    function targetSelector(FuzzSelector memory s) internal {
        _targetedSelectors.push(s);
    }

    function excludeSelector(FuzzSelector memory s) internal {
        _excludedSelectors.push(s);
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    function excludeContracts() public view returns (address[] memory) {
        return _excludedContracts;
    }

    function targetSenders() public view returns (address[] memory) {
        return _targetedSenders;
    }

    function excludeSenders() public view returns (address[] memory) {
        return _excludedSenders;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }

    function excludeSelectors() public view returns (FuzzSelector[] memory) {
        return _excludedSelectors;
    }

    function targetArtifacts() public view returns (string[] memory) {
        return _targetedArtifacts;
    }

    function excludeArtifacts() public view returns (string[] memory) {
        return _excludedArtifacts;
    }

    function targetArtifactSelectors() public view returns (FuzzArtifactSelector[] memory) {
        return _targetedArtifactSelectors;
    }

    function targetInterfaces() public view returns (FuzzInterface[] memory) {
        return _targetedInterfaces;
    }

    /// @dev Address of a deterministic test key.
    function makeAddr(string memory name) internal returns (address a) {
        a = vm.addr(uint256(keccak256(bytes(name))));
        vm.label(a, name);
    }
}
