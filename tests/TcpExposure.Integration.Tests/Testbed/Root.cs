using TcpExposure.Craft.Transport;

namespace TcpExposure.Integration.Tests.Testbed;

/// <summary>Skips a test that needs namespaces and iptables when the run is not privileged.</summary>
internal static class Root
{
    public static void Require()
    {
        if (!Privileges.Has(Capability.SysAdmin) || !Privileges.Has(Capability.NetAdmin))
            Assert.Ignore("Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to build network namespaces.");
    }
}
