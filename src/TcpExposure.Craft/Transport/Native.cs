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
    public const int SolPacket = 263;
    public const int PacketVnetHdr = 15;
    public const int PacketQdiscBypass = 20;
    public const uint SiocGIfName = 0x8910;
    public const uint SiocGIfHwAddr = 0x8927;
    public const int ArphrdEther = 1;
    public const byte PacketHost = 0;
    public const int AfInet = 2;
    public const int AfInet6 = 10;
    public const int AfPacket = 17;

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(nint fd, nuint request, out TimeVal value);

    public const int MsgTrunc = 0x20;
    public const int MsgDontWait = 0x40;

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint recvfrom(nint fd, void* buffer, nuint length, int flags, void* from, uint* fromLength);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int sendmmsg(nint fd, void* messages, uint count, int flags);

    /// <summary>ioctl with a <c>struct ifreq</c> (40 bytes): SIOCGIFNAME, SIOCGIFHWADDR.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int ioctl(nint fd, nuint request, void* ifreq);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint if_nametoindex(string name);
}
