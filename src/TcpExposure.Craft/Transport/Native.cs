using System.Runtime.InteropServices;

namespace TcpExposure.Craft.Transport;

/// <summary>The few libc calls .NET's Socket does not expose (kernel receive timestamps, interface indexes).</summary>
internal static partial class Native
{
    public const int SolSocket = 1;
    public const int SoBindToDevice = 25;
    public const int SoAttachFilter = 26;
    public const int SoTimestamp = 29;
    public const int SoRcvBuf = 8;
    public const int SoMark = 36;
    public const int SoSndBuf = 7;
    public const int IpProtoIpv6 = 41;
    public const int Ipv6HdrIncl = 36;
    public const uint SiocGStamp = 0x8906;
    public const ushort EthPAll = 0x0003;
    public const ushort EthPIp = 0x0800;
    public const ushort EthPIpv6 = 0x86DD;
    public const byte PacketOutgoing = 4;

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(nint fd, nuint request, out TimeVal value);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int sendmmsg(nint fd, void* messages, uint count, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint if_nametoindex(string name);
}
