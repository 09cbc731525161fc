# Sourced by run_issue17_side_by_side.sh and run_issue17_paper_size.sh: one timed run of
# `hessian-geometry analyze --solver exact --top 10 --alignment --margin` on the model paper_pipeline.py wrote.
# Usage: analyze_paper_model CLI_DLL OUT_DIR HIDDEN THREADS
analyze_paper_model() {
  local cli="$1" out="$2" hidden="$3" threads="$4" start
  start=$(date +%s.%N)
  dotnet "$cli" analyze --model "$out/model.safetensors" --arch "mlp:2-$hidden-$hidden-3:relu" --data "$out/data.safetensors" \
    --x-key x --y-key y --solver exact --top 10 --alignment --margin --threads "$threads" --seed 0 --out "$out/report" > "$out/analyze.log" 2>&1 \
    || { echo "analyze failed:"; tail -20 "$out/analyze.log"; }
  echo "analyze-wall $(echo "$(date +%s.%N) - $start" | bc)"
  /usr/bin/python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); c = r.get("complexity") or {}; t = r.get("topEigenpairs") or {}
print("stages", r.get("timingsSeconds") or r.get("timings")); print("counts", c.get("encodingCountMean"), "/", c.get("encodingCountMax"), "route", t.get("eigendecomposition"), "build", t.get("matrixBuild"))' "$out/report/report.json" || true
}
