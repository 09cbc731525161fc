namespace HessianGeometry.Interop;

/// <summary>What <see cref="StateDictLoader.Load"/> did: the keys it copied and, for a non-strict load, the keys it skipped.</summary>
/// <param name="Loaded">Module parameter and buffer names that were overwritten from the file, in module order.</param>
/// <param name="MissingKeys">Module names with no tensor in the file (left unchanged; always empty after a strict load).</param>
/// <param name="UnexpectedKeys">File keys (after removing the prefix) that name no parameter or buffer (always empty after a strict load).</param>
public sealed record StateDictLoadReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
