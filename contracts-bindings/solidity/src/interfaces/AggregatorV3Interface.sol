// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Chainlink's price-feed interface (same function signatures as Chainlink's
/// `AggregatorV3Interface`), so existing Chainlink consumers can read gaib's oracle.
interface AggregatorV3Interface {
    /// @notice Decimals of `answer`.
    function decimals() external view returns (uint8);
    /// @notice Human-readable feed description.
    function description() external view returns (string memory);
    /// @notice Interface version.
    function version() external view returns (uint256);
    /// @notice The data of a past round.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
    /// @notice The data of the latest round.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
