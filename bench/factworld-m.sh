#!/usr/bin/env bash
# Issue 21 end to end on factworld-m, unattended: train the model (or resume its training), choose
# MEMIT's hyperparameters on a 100-subject batch, run the editing-at-scale benchmark with them, then
# the editing-pitfalls study. Every step resumes where a killed run stopped (training checkpoints,
# z* and covariance statistics in .scalpel/edit-cache, editing-scale's out file, the sweep's store),
# and a finished step is skipped, so the same command goes on after any interruption:
#
#   nohup bench/factworld-m.sh >> factworld-m.log 2>&1 &
#
# Many hours on 2 cores (training alone ~12 h at 6–10 s a step, measured); not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
results=bench/results
choice=$results/memit-hparams-factworld-m.choice.json

step() { echo "== $(date -u +%FT%TZ) $*"; }

if [ ! -f models/factworld-m/training.json ]; then
  step "train factworld-m (resumes from its last checkpoint)"
  node bin/scalpel.mjs train-default --variant m --checkpoint-every 25
fi

if [ ! -f "$choice" ]; then
  step "MEMIT hyperparameters on one batch of 100 distinct subjects"
  node --import tsx bench/memit-hparams.ts --steps 25,60 --lambda 30,300,1000,3000 \
    --out $results/memit-hparams-factworld-m.json --choose "$choice"
fi

step "editing at scale with $choice: ROME, MEMIT and AlphaEdit at 100 and 1,000"
node --import tsx bench/editing-scale.ts --hparams "$choice" --only rome,memit-100,alphaedit-100,memit-1000,alphaedit-1000

# The study's report is kept in bench/results (the store in .scalpel is not committed).
if [ ! -f $results/editing-pitfalls-report.md ]; then
  step "the editing-pitfalls study"
  node bin/scalpel.mjs sweep examples/editing-pitfalls.yaml
  node bin/scalpel.mjs report editing-pitfalls
  cp .scalpel/reports/editing-pitfalls/report.md $results/editing-pitfalls-report.md # with every run's pitfalls table
fi

# Last, because it is the long one (10,000 z* optimisations, ~6.5 h of one core): the CounterFact-sized
# run. Its batches are independent, so two processes split the records and use both cores.
step "editing at scale: 10,000 CounterFact edits in batches of 1,000, two processes"
cf10k() { node --import tsx bench/editing-scale.ts --hparams "$choice" --only cf10k --cf-records "$1" --out "$2"; }
cf10k 1-6000 $results/editing-scale-cf10k.json & first=$!
cf10k 6001-10000 $results/editing-scale-cf10k-b.json
wait $first
step "done"
