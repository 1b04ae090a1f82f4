// Compiles Morpho Blue (npm @morpho-org/morpho-blue, src/Morpho.sol, `pragma solidity 0.8.19`)
// with solcjs 0.8.19 (npm alias solc-0.8.19) and Morpho's own production settings (their
// foundry.toml: via-IR, optimizer 999 999 runs, evm paris, no metadata hash), and writes
// { compiler, settings, abi, bytecode: { object } } to OUT. gaib's forge tests deploy this
// creation code to run a real Morpho Blue market (test/MorphoOracleAdapter.t.sol); forge itself
// compiles gaib with solc 0.8.30 only. Called by install-tools.sh:
//   node build-morpho.js <node_modules dir> <out.json>
const fs = require("fs");
const path = require("path");

const [modules, out] = process.argv.slice(2);
const solc = require(path.join(modules, "solc-0.8.19"));
const srcDir = path.join(modules, "@morpho-org", "morpho-blue", "src");

const sources = {};
const walk = (dir) => {
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) {
      if (name !== "mocks") walk(p);
    } else if (name.endsWith(".sol")) {
      sources[path.relative(srcDir, p)] = { content: fs.readFileSync(p, "utf8") };
    }
  }
};
walk(srcDir);

const settings = {
  viaIR: true,
  optimizer: { enabled: true, runs: 999999 },
  evmVersion: "paris",
  metadata: { bytecodeHash: "none" },
  outputSelection: { "Morpho.sol": { Morpho: ["abi", "evm.bytecode.object"] } },
};
const res = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources, settings })));
const errors = (res.errors || []).filter((e) => e.severity === "error");
if (errors.length > 0 || !res.contracts || !res.contracts["Morpho.sol"]) {
  for (const e of errors) console.error(e.formattedMessage);
  console.error("build-morpho: compiling Morpho.sol failed");
  process.exit(1);
}
const morpho = res.contracts["Morpho.sol"].Morpho;
const artifact = {
  compiler: solc.version(),
  settings: { viaIR: true, optimizerRuns: 999999, evmVersion: "paris", bytecodeHash: "none" },
  abi: morpho.abi,
  bytecode: { object: "0x" + morpho.evm.bytecode.object },
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out + ".tmp", JSON.stringify(artifact));
fs.renameSync(out + ".tmp", out);
