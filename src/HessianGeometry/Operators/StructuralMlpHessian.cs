using HessianGeometry.Internal;
using HessianGeometry.Spectrum;
using static TorchSharp.torch;
using Step = HessianGeometry.Operators.Engines.MlpStep;

namespace HessianGeometry.Operators;

/// <summary>
/// The exact Hessian (or GGN) of an MLP's empirical risk assembled from the network's structure, block by block with
/// matrix products over the samples, instead of from p Hessian-vector products (docs/operators.md, "Exact Hessians from
/// the MLP's structure").
/// </summary>
/// <remarks>
/// <para>
/// For Linear steps l ≤ m with inputs a_l, a_m and outputs z_l, z_m, per sample (weights 1/n folded into the loss):
/// the diagonal block is (∂z_m/∂θ_m)ᵀ Ĥ_m (∂z_m/∂θ_m) with Ĥ_m = ∂²ℓ/∂z_m² from Hessian backpropagation (through a Linear
/// step Wᵀ Ĥ W, through an activation diag(σ′) Ĥ diag(σ′) + diag(σ″ ⊙ ∂ℓ/∂a)); the off-diagonal block is
/// (∂z_l/∂θ_l)ᵀ D_{m←l}ᵀ Ĥ_m (∂z_m/∂θ_m) plus the cross term δ_m ⊗ ∂a_m/∂θ_l of the bilinear W_m a_m, where
/// D_{m←l} = ∂z_m/∂z_l and δ_m = ∂ℓ/∂z_m. Because ∂z/∂W is a Kronecker product with the layer input ã = [a, 1] (the 1
/// for the bias), a block entry is Σ_i N_i[c, c′] ã_l,i[e] ã_m,i[e′] (+ the cross term Σ_i P_i[e′, c] ã_l,i[e] δ_m,i[c′]):
/// one matrix product over the samples of two operands that are per-sample outer products of vectors
/// ([w_l·w_m, n]·[n, d̃_l·d̃_m]), whose result is permuted into the block. The GGN is the same with the σ″ and cross
/// terms left out.
/// </para>
/// <para>
/// Cost in multiply-adds: n Σ_{l&lt;m} p_l p_m (+ the same again for the cross terms) and n p_l²/4 per diagonal block
/// (both N = Ĥ and ã ãᵀ are symmetric, so only c ≤ c′ and e ≤ e′ are multiplied), plus O(n w³) per pair of layers for Ĥ
/// and D; 4C times less than the Gram product UᵀU of the nC back-propagated loss-Hessian factors (nC·p²), about 30× less than
/// p block products on one dominant layer. The operands are n·(w_l·w_m + d̃_l·d̃_m) elements per pair (and the cross
/// term's n·(d̃_l·w_m + w_l·d_m)), so the build is
/// bound by the products, not by materialising operands (docs/benchmarks.md, issue #17 goal 2). Working memory besides
/// the p×p result: per-sample [rows, w, w] tensors in chunks of at most 2²² elements and product tiles of at most 2²⁴
/// elements (128 MiB in float64).
/// </para>
/// </remarks>
public static class StructuralMlpHessian
{
    /// <summary>Elements of one per-sample [rows, w, w] tensor per chunk of samples.</summary>
    internal const long ChunkElements = 1L << 22;

    /// <summary>Elements of one product tile [rows of layer l, samples, columns of layer m].</summary>
    internal const long TileElements = 1L << 24;

    /// <summary>
    /// The dense p×p Hessian (or, with <paramref name="gaussNewton"/>, the GGN) of the risk with respect to its analysis
    /// parameters, in <paramref name="dtype"/>, or null with the reason when the model is not an MLP the analytic engine
    /// reads (a <c>Sequential</c> of Linear layers and ReLU, Tanh, Sigmoid, SiLU or exact GELU under cross-entropy or MSE,
    /// whose forward pass the layers' formulas reproduce), or when p block products would cost fewer operations (very
    /// wide layers relative to p).
    /// </summary>
    /// <param name="risk">The empirical risk; its model is only read.</param>
    /// <param name="gaussNewton">The GGN (1/n) Σ Jᵀ ∇²ℓ J instead of the Hessian.</param>
    /// <param name="dtype">Float32 or Float64 for the result (products run in the risk's dtype).</param>
    /// <param name="cancellationToken">Checked between product tiles.</param>
    /// <param name="progress">Fraction of the product tiles done, per batch.</param>
    /// <param name="reason">Why the matrix was not built; on success what was built.</param>
    public static Tensor? TryCompute(EmpiricalRisk risk, bool gaussNewton, ScalarType dtype, CancellationToken cancellationToken,
        IProgress<double>? progress, out string reason)
    {
        Guard.NotNull(risk, nameof(risk));
        using var scope = NewDisposeScope();
        var steps = ExactMlpReader.TryRead(risk, out reason);
        if (steps is null)
            return null;
        var plan = new Plan(steps, risk.AnalysisParameters, risk.LossFunction.Kind, gaussNewton);
        var (structural, products) = plan.Cost(risk.SampleCount);
        if (structural > products)
        {
            reason = $"p block products are cheaper for these layer widths (about {products:G3} multiply-adds against {structural:G3} for the structural build)";
            return null;
        }
        var result = zeros(risk.Dimension, risk.Dimension, dtype: dtype, device: risk.Device);
        var rowsPerChunk = Math.Max(1, ChunkElements / (plan.MaxWidth * plan.MaxWidth));
        long samplesDone = 0;
        try
        {
            risk.ForEachBatch(batch =>
            {
                for (long start = 0; start < batch.Rows; start += rowsPerChunk)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var chunkScope = NewDisposeScope();
                    var rows = Math.Min(rowsPerChunk, batch.Rows - start);
                    plan.AddChunk(batch.Inputs.narrow(0, start, rows), batch.Targets.narrow(0, start, rows), batch.Scale, result, cancellationToken);
                    samplesDone += rows;
                    progress?.Report((double)samplesDone / risk.SampleCount);
                }
            });
        }
        catch (NotSupportedException ex)
        {
            reason = ex.Message;
            return null;
        }
        reason = $"structural MLP {(gaussNewton ? "GGN" : "Hessian")} ({string.Join(" → ", steps.Select(s => s.IsLinear ? $"Linear({s.Weight!.shape[1]}→{s.Weight.shape[0]})" : s.Activation!.Name))}): " +
            $"blockwise matrix products over {risk.SampleCount} samples, about {structural:G3} multiply-adds against {products:G3} for p block products";
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The network's steps, its parameter blocks and the per-chunk assembly.</summary>
    private sealed class Plan
    {
        private readonly IReadOnlyList<Step> steps;
        private readonly ParameterSpace space;
        private readonly LossKind kind;
        private readonly bool gaussNewton;
        private readonly int lowest;
        private readonly int[] blocks;

        public Plan(IReadOnlyList<Step> steps, ParameterSpace space, LossKind kind, bool gaussNewton)
        {
            this.steps = steps;
            this.space = space;
            this.kind = kind;
            this.gaussNewton = gaussNewton;
            blocks = Enumerable.Range(0, steps.Count).Where(j => steps[j].WeightIndex >= 0 || steps[j].BiasIndex >= 0).ToArray();
            lowest = blocks[0];
            MaxWidth = steps.Skip(lowest).Where(s => s.IsLinear).Max(s => Math.Max(s.Weight!.shape[0], s.Weight.shape[1]));
        }

        /// <summary>The widest Linear input or output from the lowest selected layer up.</summary>
        public long MaxWidth { get; }

        private long OutWidth(int j) => steps[j].Weight!.shape[0];

        private long InWidth(int j) => steps[j].Weight!.shape[1];

        /// <summary>Columns of the homogeneous input ã = [a (weight selected), 1 (bias selected)].</summary>
        private long HomogeneousWidth(int j) => (steps[j].WeightIndex >= 0 ? InWidth(j) : 0) + (steps[j].BiasIndex >= 0 ? 1 : 0);

        /// <summary>Estimated multiply-adds of this build and of p block products (about 8 matrix products of n·w·d per Linear layer and vector).</summary>
        public (double Structural, double Products) Cost(long samples)
        {
            double n = samples, blockTerms = 0, propagation = 0, perProduct = 0;
            for (var a = 0; a < blocks.Length; a++)
            {
                double pl = OutWidth(blocks[a]) * HomogeneousWidth(blocks[a]);
                blockTerms += pl * pl / 4;
                for (var b = a + 1; b < blocks.Length; b++)
                {
                    blockTerms += pl * OutWidth(blocks[b]) * HomogeneousWidth(blocks[b]) * (gaussNewton ? 1 : 2);
                    double wl = OutWidth(blocks[a]), wm = OutWidth(blocks[b]);
                    propagation += wl * (wm * InWidth(blocks[b]) + wm * wm);
                }
                for (var j = blocks[a] + 1; j <= blocks[^1]; j++)
                {
                    if (steps[j].IsLinear)
                        propagation += OutWidth(blocks[a]) * OutWidth(j) * InWidth(j);
                }
            }
            for (var j = lowest; j < steps.Count; j++)
            {
                if (!steps[j].IsLinear)
                    continue;
                double w = OutWidth(j), d = InWidth(j);
                propagation += w * d * (w + d);
                perProduct += 8 * w * d;
            }
            return (n * (blockTerms + propagation), n * perProduct * space.Dimension);
        }

        /// <summary>Adds one chunk of samples' share of the matrix to <paramref name="result"/>.</summary>
        public void AddChunk(Tensor x, Tensor targets, double scale, Tensor result, CancellationToken cancellationToken)
        {
            using var _ = no_grad();
            var count = steps.Count;
            var inputs = new Tensor?[count];
            var first = new Tensor?[count];
            var second = new Tensor?[count];
            var h = x;
            for (var j = 0; j < count; j++)
            {
                var s = steps[j];
                if (s.IsLinear)
                {
                    inputs[j] = h;
                    h = ExactMlpReader.Linear(s, h);
                }
                else
                {
                    (h, first[j], second[j]) = s.Activation!.Evaluate(h);
                }
            }

            // δ_j = ∂ℓ/∂z_j and Ĥ_j = ∂²ℓ/∂z_j² at every Linear output, by Hessian backpropagation from the loss.
            var (g, hessian) = ExactMlpReader.OutputDerivatives(kind, h, targets, scale);
            var outputGradients = new Tensor?[count];
            var outputHessians = new Tensor?[count];
            for (var j = count - 1; j >= lowest; j--)
            {
                var s = steps[j];
                if (s.IsLinear)
                {
                    outputGradients[j] = g;
                    outputHessians[j] = hessian;
                    if (j > lowest)
                    {
                        hessian = s.Weight!.t().matmul(hessian).matmul(s.Weight!);
                        g = g.mm(s.Weight!);
                    }
                }
                else
                {
                    var d = first[j]!;
                    hessian = d.unsqueeze(2) * hessian * d.unsqueeze(1);
                    if (!gaussNewton && second[j] is { } curvature)
                        hessian.diagonal(0, 1, 2).add_(curvature * g);
                    g = g * d;
                }
            }

            var homogeneous = new Tensor?[count];
            foreach (var j in blocks)
                homogeneous[j] = Homogeneous(j, inputs[j]!);

            foreach (var l in blocks)
            {
                AddPair(l, l, null, homogeneous, outputGradients, outputHessians, result, cancellationToken);
                // J = ∂(output of step k)/∂z_l, walked up to the highest block; at a Linear block m it is P = ∂a_m/∂z_l.
                var rows = x.shape[0];
                Tensor jacobian = eye(OutWidth(l), dtype: x.dtype, device: x.device).expand(rows, -1, -1);
                for (var k = l + 1; k <= blocks[^1]; k++)
                {
                    var s = steps[k];
                    if (!s.IsLinear)
                    {
                        jacobian = first[k]!.unsqueeze(2) * jacobian;
                        continue;
                    }
                    if (s.WeightIndex >= 0 || s.BiasIndex >= 0)
                        AddPair(l, k, jacobian, homogeneous, outputGradients, outputHessians, result, cancellationToken);
                    if (k < blocks[^1])
                        jacobian = s.Weight!.matmul(jacobian);
                }
            }
        }

        /// <summary>
        /// The upper triangle of a d×d matrix in row order (row and column indices), and for every entry of the full
        /// matrix, row-major, the position of its upper-triangle twin.
        /// </summary>
        private static (Tensor Rows, Tensor Columns, Tensor FromUpper) UpperTriangle(long d, Device device)
        {
            var count = d * (d + 1) / 2;
            var rows = new long[count];
            var columns = new long[count];
            var fromUpper = new long[d * d];
            long k = 0;
            for (long e = 0; e < d; e++)
            {
                for (var f = e; f < d; f++)
                {
                    rows[k] = e;
                    columns[k] = f;
                    fromUpper[e * d + f] = k;
                    fromUpper[f * d + e] = k;
                    k++;
                }
            }
            return (tensor(rows, device: device), tensor(columns, device: device), tensor(fromUpper, device: device));
        }

        /// <summary>ã = [a, 1], with only the columns of the selected weight and bias.</summary>
        private Tensor Homogeneous(int j, Tensor input)
        {
            var s = steps[j];
            if (s.BiasIndex < 0)
                return input;
            var one = ones(input.shape[0], 1, dtype: input.dtype, device: input.device);
            return s.WeightIndex >= 0 ? cat([input, one], 1) : one;
        }

        /// <summary>
        /// Adds the block (θ_l, θ_m), l ≤ m, and its transpose, as matrix products over the samples whose operands are
        /// per-sample outer products of vectors, never Kronecker products with a matrix:
        /// Σ_i N_i[c, c′] (ã_l,i ⊗ ã_m,i)[e, e′] = (N as [w_l·w_m, n]) · (ã_l ⊗ ã_m as [n, d̃_l·d̃_m]), N = (W_m P)ᵀ Ĥ_m or Ĥ_m
        /// itself on the diagonal, plus (Hessian, weight columns of m, l &lt; m) the cross term
        /// Σ_i (ã_l,i ⊗ δ_m,i)[e, c′] P_i[e′, c] = (ã_l ⊗ δ_m as [d̃_l·w_m, n]) · (P as [n, w_l·d_m]). Chunked over the rows c
        /// of layer l; on the diagonal only columns c′ from the chunk's first row on are computed and the rest mirrored.
        /// </summary>
        private void AddPair(int l, int m, Tensor? p, Tensor?[] homogeneous, Tensor?[] outputGradients, Tensor?[] outputHessians, Tensor result, CancellationToken cancellationToken)
        {
            using var scope = NewDisposeScope();
            var diagonal = l == m;
            var n = diagonal ? outputHessians[m]! : steps[m].Weight!.matmul(p!).transpose(1, 2).matmul(outputHessians[m]!);
            if (diagonal)
            {
                // Wᵀ Ĥ W is symmetric only up to rounding; the mirrored half must equal the computed one.
                n = (n + n.transpose(1, 2)).mul_(0.5);
            }
            var rowsOfL = OutWidth(l);
            var columnsOfM = OutWidth(m);
            var leftInputs = homogeneous[l]!;
            var rightInputs = homogeneous[m]!;
            var samples = leftInputs.shape[0];
            var leftWidth = leftInputs.shape[1];
            var rightWidth = rightInputs.shape[1];
            // On the diagonal ã ãᵀ is symmetric: only its upper triangle (e ≤ e′) enters the product, which halves it, and
            // the full [e, e′] blocks are read back through an index.
            Tensor inputProducts;
            Tensor? unpack = null;
            if (diagonal)
            {
                var (upperRows, upperColumns, fromUpper) = UpperTriangle(leftWidth, leftInputs.device);
                inputProducts = leftInputs.index_select(1, upperRows) * leftInputs.index_select(1, upperColumns);
                unpack = fromUpper;
            }
            else
            {
                inputProducts = (leftInputs.unsqueeze(2) * rightInputs.unsqueeze(1)).view(samples, leftWidth * rightWidth);
            }
            var cross = !gaussNewton && !diagonal && steps[m].WeightIndex >= 0;
            var weightColumns = InWidth(m);
            var crossFactors = cross ? (leftInputs.unsqueeze(2) * outputGradients[m]!.unsqueeze(1)).view(samples, leftWidth * columnsOfM).t() : null;
            var jacobianByRow = cross ? p!.transpose(1, 2).contiguous() : null; // [n, w_l, d_m]: a chunk of rows c is one [n, c·d_m] operand
            var chunk = Math.Max(1, Math.Min(rowsOfL, TileElements / (columnsOfM * leftWidth * rightWidth)));
            if (diagonal)
            {
                // Chunks of about w/12 rows: the part below the diagonal that each chunk's square computes twice stays about 1/12 of the block.
                chunk = Math.Min(chunk, Math.Max(1, rowsOfL / 12));
            }
            for (long c0 = 0; c0 < rowsOfL; c0 += chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var tileScope = NewDisposeScope();
                var cc = Math.Min(chunk, rowsOfL - c0);
                var k0 = diagonal ? c0 : 0;
                var kc = columnsOfM - k0;
                var factors = n.narrow(1, c0, cc).narrow(2, k0, kc).reshape(samples, cc * kc);
                var products = factors.t().mm(inputProducts);
                if (unpack is not null)
                    products = products.index_select(1, unpack);
                products = products.view(cc, kc, leftWidth, rightWidth);                                   // [c, c′, e, e′]
                var tile = products.permute(0, 2, 1, 3);                                             // [c, e, c′, e′]
                if (cross)
                {
                    var crossProducts = crossFactors!.mm(jacobianByRow!.narrow(1, c0, cc).reshape(samples, cc * weightColumns))
                        .view(leftWidth, columnsOfM, cc, weightColumns);                             // [e, c′, c, e′]
                    tile.narrow(3, 0, weightColumns).add_(crossProducts.permute(2, 0, 1, 3));
                }
                AddTile(result, l, c0, m, k0, tile);
                // Mirror [c, c′, e, e′] as [c′, e′, c, e] (off the diagonal all of it, on it the columns c′ ≥ c0 + cc).
                // On the diagonal each [e, e′] block Σ_i N_i[c, c′] ã_i ã_iᵀ is symmetric, so [c′, e, c, e′] is the
                // mirror with no transposition; off it, transposing each d̃_l×d̃_m block first keeps the innermost
                // dimension contiguous in source and target.
                var mirroredFrom = diagonal ? cc : 0;
                if (kc > mirroredFrom)
                {
                    var mirrored = diagonal
                        ? products.narrow(1, mirroredFrom, kc - mirroredFrom).permute(1, 2, 0, 3)
                        : products.transpose(2, 3).contiguous().permute(1, 2, 0, 3);
                    AddTile(result, m, k0 + mirroredFrom, l, c0, mirrored);
                }
            }
        }

        /// <summary>
        /// Adds a tile [rows r of step <paramref name="rowStep"/> from <paramref name="r0"/>, ã columns, rows k of step
        /// <paramref name="columnStep"/> from <paramref name="k0"/>, ã columns] to the weight and bias sub-blocks of the matrix.
        /// </summary>
        private void AddTile(Tensor result, int rowStep, long r0, int columnStep, long k0, Tensor tile)
        {
            var rowCount = tile.shape[0];
            var columnCount = tile.shape[2];
            foreach (var (rowBase, rowWidth, rowSlice) in Parts(rowStep))
            {
                foreach (var (columnBase, columnWidth, columnSlice) in Parts(columnStep))
                {
                    var target = result.narrow(0, rowBase + r0 * rowWidth, rowCount * rowWidth)
                        .narrow(1, columnBase + k0 * columnWidth, columnCount * columnWidth)
                        .view(rowCount, rowWidth, columnCount, columnWidth);
                    target.add_(tile.narrow(1, rowSlice, rowWidth).narrow(3, columnSlice, columnWidth));
                }
            }
        }

        /// <summary>The selected weight (offset, d columns per output row, ã columns from 0) and bias (offset, 1, the last ã column).</summary>
        private IEnumerable<(long Base, long Width, long Slice)> Parts(int j)
        {
            var s = steps[j];
            if (s.WeightIndex >= 0)
                yield return (space.OffsetOf(s.WeightIndex), InWidth(j), 0);
            if (s.BiasIndex >= 0)
                yield return (space.OffsetOf(s.BiasIndex), 1, s.WeightIndex >= 0 ? InWidth(j) : 0);
        }
    }
}
