using FsCheck;
using FsCheck.Fluent;

namespace TcpExposure.Craft.Tests.Properties;

/// <summary>Runs an FsCheck property with a fixed number of cases; a failure throws with the shrunk counterexample.</summary>
internal static class PropertyCheck
{
    public static void Holds<T>(Gen<T> gen, Action<T> property, int cases = 300)
        => Prop.ForAll(gen.ToArbitrary(), property).Check(Config.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true));
}
