#!/usr/bin/env node
// A stand-in for the native `solc` binary, built on solc-js from node_modules, covering what
// py-solc-x needs: `--version`, and `--standard-json` (JSON in on stdin, only JSON out on stdout).
// Output is written synchronously so that a large JSON is never cut short when the process exits.
'use strict';
const fs = require('fs');
const path = require('path');

function loadSolc() {
  const root = path.resolve(__dirname, '..', 'node_modules', 'solc');
  return require(root);
}

function writeAll(fd, text) {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

function main(argv) {
  const solc = loadSolc();
  if (argv.includes('--version')) {
    writeAll(1, 'solc, the solidity compiler commandline interface (solc-js shim)\n');
    writeAll(1, `Version: ${solc.version()}\n`);
    return 0;
  }
  if (!argv.includes('--standard-json')) {
    writeAll(2, 'solc shim: only --version and --standard-json are supported\n');
    return 2;
  }
  let base = process.cwd();
  const bi = argv.indexOf('--base-path');
  if (bi >= 0 && argv[bi + 1]) base = argv[bi + 1];
  const input = fs.readFileSync(0, 'utf8');
  const findImports = (p) => {
    const full = path.resolve(base, p);
    try {
      return { contents: fs.readFileSync(full, 'utf8') };
    } catch (e) {
      return { error: `File not found: ${p}` };
    }
  };
  writeAll(1, solc.compile(input, { import: findImports }));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
