// Calls AnalyzeMinimum() every 50 epochs from a plain TorchSharp training loop and prints how λ_max, tr(H) and the
// alignment of the top eigenvector evolve. The analysis leaves the model, its gradients and the optimizer untouched.
// Run: dotnet run -c Release --project examples/TrainingLoop
using HessianGeometry.Analysis;
using HessianGeometry.Interop;
using TorchSharp;
using static TorchSharp.torch;

torch.manual_seed(0);
var generator = new Generator(0);
var centres = tensor(new float[,] { { 2, -1 }, { -2, 0 }, { 0, 2 } });
var y = arange(300, dtype: ScalarType.Int64) % 3;
var x = centres.index_select(0, y) + 0.6f * randn(300, 2, generator: generator);

var model = MlpSpec.Parse("mlp:2-32-32-3:tanh").Build();
var optimizer = optim.Adam(model.parameters(), lr: 0.01);
var plan = HessianAnalysis.For(model)
    .WithData(x, y)
    .TopEigenpairs(3)
    .WithTrace()
    .WithAlignment()
    .Seed(0)
    .Build();                      // validated once, reused every time
var history = new ReportHistory();

for (var epoch = 1; epoch <= 300; epoch++)
{
    using var scope = NewDisposeScope();
    model.train();
    optimizer.zero_grad();
    var loss = nn.functional.cross_entropy(model.call(x), y);
    loss.backward();
    optimizer.step();

    if (epoch % 50 == 0)
    {
        model.eval();
        var report = history.Analyze(epoch, plan);
        Console.WriteLine($"epoch {epoch,3}: loss {report.Loss:F4}, accuracy {report.Accuracy:P1}, " +
                          $"λ_max {report.Eigenvalues![0]:F4}, tr(H) {report.Trace:F3} ± {report.TraceStandardError:F3}, " +
                          $"mean |A_1| {report.MeanAbsAlignment![0]:F3}");
    }
}

File.WriteAllText("training-history.json", System.Text.Json.JsonSerializer.Serialize(
    history.Entries.Select(e => e.Report).ToList(), MinimumReportJsonContext.Default.ListMinimumReport));
Console.WriteLine("Wrote training-history.json");
