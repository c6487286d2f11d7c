using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TcpExposure.Craft.Legacy;
using TcpExposure.Craft.Transport;

namespace TcpExposure.Tool.Bridge;

/// <summary>
/// The entry points python/tcpexposure/_bridge.py calls through hostfxr's
/// <c>load_assembly_and_get_function_pointer</c>. Conventions: bytes come in as (pointer, length);
/// strings as UTF-8 (pointer, length); results or error messages go out through
/// <c>(byte** out, int* outLen)</c> as a native block that Python frees with <see cref="Free"/>;
/// the return value is a <see cref="BridgeStatus"/>. No exception leaves an entry point.
/// </summary>
public static unsafe class BridgeExports
{
    /// <summary>Frees a block handed out by any entry point.</summary>
    [UnmanagedCallersOnly(EntryPoint = "tx_free")]
    public static void Free(byte* block)
    {
        if (block is not null)
            NativeMemory.Free(block);
    }

    /// <summary>The bridge's protocol version, so a stale build is reported instead of misread.</summary>
    [UnmanagedCallersOnly]
    public static int Version() => 1;

    /// <summary>compose_options: option tuples in the compact form (see <see cref="BridgeOptions"/>) to option bytes.</summary>
    [UnmanagedCallersOnly]
    public static int ComposeOptions(byte* encoded, int encodedLen, byte** result, int* resultLen)
        => BridgeCall.Bytes(new BridgeIn(encoded, encodedLen), static encoded =>
        {
            var options = BridgeOptions.Read(encoded.Span);
            foreach (var o in options)
            {
                try
                {
                    LegacyCraft.ToTyped(o);
                }
                catch (OverflowException)
                {
                    // The typed option's checked casts say only "overflow"; name the option instead.
                    throw new ArgumentException($"Option {o.Name} has a value out of range: {o}.");
                }
            }
            return LegacyCraft.ComposeOptions(options);
        }, result, resultLen);

    /// <summary>decompose_options: option bytes to a JSON list of lists.</summary>
    [UnmanagedCallersOnly]
    public static int DecomposeOptions(byte* data, int len, byte** result, int* resultLen)
        => BridgeCall.Bytes(new BridgeIn(data, len), static data =>
        {
            var options = LegacyCraft.DecomposeOptions(data.Span);
            return BridgeOptions.Json(w =>
            {
                w.WriteStartArray();
                foreach (var o in options)
                    BridgeOptions.WriteJson(w, o);
                w.WriteEndArray();
            }).Span;
        }, result, resultLen);

    /// <summary>parse_headers: JSON with ip, tcp, opts and payload (hex).</summary>
    [UnmanagedCallersOnly]
    public static int ParseHeaders(byte* data, int len, byte** result, int* resultLen)
        => BridgeCall.Bytes(new BridgeIn(data, len), static data =>
        {
            var parsed = LegacyCraft.ParseHeaders(data.Span);
            return BridgeOptions.Json(w => BridgeOptions.WriteParsed(w, parsed)).Span;
        }, result, resultLen);

    /// <summary>summarize_pkt: the legacy one-line summary (UTF-8, ending in a newline).</summary>
    [UnmanagedCallersOnly]
    public static int SummarizePkt(byte* data, int len, byte** result, int* resultLen)
        => BridgeCall.Bytes(new BridgeIn(data, len),
            static data => Encoding.UTF8.GetBytes(LegacyCraft.SummarizePkt(data.Span)), result, resultLen);

    /// <summary>
    /// summarize_ans1 of headers a script holds (and may have changed): JSON
    /// <c>{"ip":{srcaddr,dstaddr,length,hdrlen}, "tcp":{srcport,dstport,seqno,ackno,flag,window,hdrlen,checksum}, "opts":[...], "paylen":N}</c>.
    /// </summary>
    [UnmanagedCallersOnly]
    public static int SummarizeAns1(byte* json, int len, byte** result, int* resultLen)
        => BridgeCall.Bytes(new BridgeIn(json, len), static json =>
        {
            try
            {
                using var doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(json.Span.ToArray()));
                var root = doc.RootElement;
                var ip = root.GetProperty("ip");
                var tcp = root.GetProperty("tcp");
                var parsed = new LegacyParsed(
                    new LegacyIpHeader
                    {
                        srcaddr = ip.GetProperty("srcaddr").GetUInt32(),
                        dstaddr = ip.GetProperty("dstaddr").GetUInt32(),
                        length = ip.GetProperty("length").GetInt32(),
                        hdrlen = ip.GetProperty("hdrlen").GetInt32(),
                    },
                    new LegacyTcpHeader
                    {
                        srcport = tcp.GetProperty("srcport").GetInt32(),
                        dstport = tcp.GetProperty("dstport").GetInt32(),
                        seqno = tcp.GetProperty("seqno").GetUInt32(),
                        ackno = tcp.GetProperty("ackno").GetUInt32(),
                        flag = tcp.GetProperty("flag").GetInt32(),
                        window = tcp.GetProperty("window").GetInt32(),
                        hdrlen = tcp.GetProperty("hdrlen").GetInt32(),
                        checksum = tcp.GetProperty("checksum").GetInt32(),
                    },
                    BridgeOptions.ReadJson(root.GetProperty("opts")),
                    new byte[root.GetProperty("paylen").GetInt32()]);
                return Encoding.UTF8.GetBytes(LegacyCraft.SummarizeAns1(parsed));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new BridgeTypeException($"summarize_ans1 needs (iphdr, tcphdr, options[, payload]) with integer header fields: {e.Message}");
            }
        }, result, resultLen);

    /// <summary>parse_ether_header: JSON <c>{dhost, shost, type}</c> (MACs as 48-bit integers); the rest starts at byte 14.</summary>
    [UnmanagedCallersOnly]
    public static int ParseEther(byte* data, int len, byte** result, int* resultLen)
        => BridgeCall.Bytes(new BridgeIn(data, len), static data =>
        {
            var frame = data.Span;
            if (frame.Length < 14)
                throw new ArgumentException($"An Ethernet header is 14 bytes; got {frame.Length}.");
            ulong dhost = BinaryPrimitives.ReadUInt64BigEndian([0, 0, .. frame[..6]]);
            ulong shost = BinaryPrimitives.ReadUInt64BigEndian([0, 0, .. frame[6..12]]);
            int type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
            return Encoding.UTF8.GetBytes($"[{dhost},{shost},{type}]");
        }, result, resultLen);

    /// <summary>A dotted address (or decimal host-order integer) to a host-order integer.</summary>
    [UnmanagedCallersOnly]
    public static int ParseAddress(byte* text, int len, uint* address, byte** err, int* errLen)
        => BridgeCall.Run((Text: new BridgeIn(text, len), Address: (nint)address),
            static a => *(uint*)a.Address = LegacyCraft.ParseAddress(a.Text.Text), err, errLen);

    /// <summary>
    /// send_segments (<paramref name="receive"/> 0) or sendrecv_segments (1). Packets come framed:
    /// <c>[u32 length LE][bytes]...</c>. The result is JSON <c>{"err":0|-1,"error":msg,"answers":[parsed...]}</c>.
    /// Missing CAP_NET_RAW raises PermissionError instead of returning -1, so a script learns why.
    /// </summary>
    [UnmanagedCallersOnly]
    public static int SendRecv(int receive, long daddr, byte* framed, int framedLen, double timeout, long sflags, int usePcap,
        byte* ifname, int ifnameLen, byte* smac, int smacLen, byte* dmac, int dmacLen, byte** result, int* resultLen)
        => BridgeCall.Bytes(
            (Receive: receive != 0, Daddr: daddr, Framed: new BridgeIn(framed, framedLen), Timeout: timeout, Flags: sflags,
             UsePcap: usePcap != 0, Interface: new BridgeIn(ifname, ifnameLen), Smac: new BridgeIn(smac, smacLen), Dmac: new BridgeIn(dmac, dmacLen)),
            static a =>
            {
                var pkts = Unframe(a.Framed.Span);
                uint dst = U32(a.Daddr, "daddr");
                if (double.IsNaN(a.Timeout) || a.Timeout < 0)
                    throw new ArgumentException($"timeout must be a number of seconds >= 0, got {a.Timeout}.");
                if (pkts.Count > 0 && !Privileges.Has(Capability.NetRaw))
                    throw BridgePrivileges.NoRaw();
                string iface = a.Interface.Text;
                string? s = a.Smac.IsEmpty ? null : a.Smac.Text;
                string? d = a.Dmac.IsEmpty ? null : a.Dmac.Text;
                List<LegacyParsed> answers = [];
                int errCode;
                if (a.Receive)
                    (answers, errCode) = LegacySendRecv.SendRecvSegments(dst, pkts, a.Timeout, checked((int)a.Flags), a.UsePcap, iface, s, d);
                else
                    errCode = LegacySendRecv.SendSegments(dst, pkts, a.UsePcap, iface, s, d);
                string? error = LegacySendRecv.LastError;
                if (error is not null && error.Contains("CAP_NET_RAW", StringComparison.Ordinal))
                    throw BridgePrivileges.NoRaw();
                return BridgeOptions.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("err", errCode);
                    w.WriteString("error", error);
                    w.WriteStartArray("answers");
                    foreach (var p in answers)
                        BridgeOptions.WriteParsed(w, p);
                    w.WriteEndArray();
                    w.WriteEndObject();
                }).Span;
            }, result, resultLen);

    /// <summary>gethostpair: JSON <c>[daddr, fqdn, saddr]</c>, addresses as host-order integers.</summary>
    [UnmanagedCallersOnly]
    public static int GetHostPair(byte* host, int hostLen, byte** result, int* resultLen)
        => BridgeCall.Bytes(new BridgeIn(host, hostLen), static host =>
        {
            string name = host.Text;
            IPAddress target = IPAddress.TryParse(name, out var literal) ? literal
                : Dns.GetHostAddresses(name, AddressFamily.InterNetwork).FirstOrDefault()
                  ?? throw new IOException($"'{name}' has no IPv4 address.");
            string fqdn;
            try
            {
                fqdn = Dns.GetHostEntry(target).HostName;
            }
            catch (SocketException)
            {
                fqdn = name; // no reverse mapping: keep the name the script gave
            }
            var source = Routes.SourceAddressFor(target);
            return BridgeOptions.Json(w =>
            {
                w.WriteStartArray();
                w.WriteNumberValue(LegacyCraft.HostOrder(target));
                w.WriteStringValue(fqdn);
                w.WriteNumberValue(LegacyCraft.HostOrder(source));
                w.WriteEndArray();
            }).Span;
        }, result, resultLen);

    /// <summary>get_ifname_and_smacaddr: JSON <c>[ifname, "aa:bb:..", err]</c> for the interface holding <paramref name="saddr"/>.</summary>
    [UnmanagedCallersOnly]
    public static int GetIfnameAndMac(long saddr, byte** result, int* resultLen)
        => BridgeCall.Bytes(saddr, static saddr =>
        {
            var address = LegacyCraft.AddressFromHostOrder(U32(saddr, "saddr"));
            var nic = NetworkInterface.GetAllNetworkInterfaces()
                .FirstOrDefault(n => n.GetIPProperties().UnicastAddresses.Any(u => u.Address.Equals(address)));
            return BridgeOptions.Json(w =>
            {
                w.WriteStartArray();
                w.WriteStringValue(nic?.Name ?? "");
                w.WriteStringValue(nic is null ? "" : FormatMac(Routes.InterfaceMac(nic.Name)));
                w.WriteNumberValue(nic is null ? -1 : 0);
                w.WriteEndArray();
            }).Span;
        }, result, resultLen);

    /// <summary>get_dmacaddr: JSON string "aa:bb:.." of the next hop toward <paramref name="ip"/>, or null when unresolved.</summary>
    [UnmanagedCallersOnly]
    public static int GetDestinationMac(byte* ifname, int ifnameLen, long ip, byte** result, int* resultLen)
        => BridgeCall.Bytes((Interface: new BridgeIn(ifname, ifnameLen), Ip: ip), static a =>
        {
            var destination = LegacyCraft.AddressFromHostOrder(U32(a.Ip, "ip"));
            var route = Routes.Lookup(destination);
            string iface = a.Interface.Text;
            if (iface.Length > 0)
                route = route with { Interface = iface };
            string? mac;
            try
            {
                mac = FormatMac(Routes.ResolveNextHopMacAsync(route, TimeSpan.FromSeconds(1)).GetAwaiter().GetResult());
            }
            catch (IOException)
            {
                mac = null; // the legacy call reports "no answer" as a value; the script retries
            }
            return BridgeOptions.Json(w => w.WriteStringValue(mac)).Span;
        }, result, resultLen);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<long, RstGuard> Guards = new();
    private static long _nextGuard;

    /// <summary>Starts dropping the kernel's RSTs from <paramref name="address"/>:<paramref name="port"/> (see <see cref="RstGuard"/>).</summary>
    [UnmanagedCallersOnly]
    public static int GuardCreate(long address, long port, long* id, byte** err, int* errLen)
        => BridgeCall.Run((Address: address, Port: port, Id: (nint)id), static a =>
        {
            var guard = RstGuard.Create(LegacyCraft.AddressFromHostOrder(U32(a.Address, "address")), U16(a.Port, "port"));
            long handle = Interlocked.Increment(ref _nextGuard);
            Guards[handle] = guard;
            *(long*)a.Id = handle;
        }, err, errLen);

    /// <summary>Removes a guard's rule (twice is harmless).</summary>
    [UnmanagedCallersOnly]
    public static int GuardDispose(long id, byte** err, int* errLen)
        => BridgeCall.Run(id, static id =>
        {
            if (Guards.TryRemove(id, out var guard))
                guard.Dispose();
        }, err, errLen);

    internal static string FormatMac(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    internal static List<byte[]> Unframe(ReadOnlySpan<byte> framed)
    {
        var list = new List<byte[]>();
        while (framed.Length > 0)
        {
            if (framed.Length < 4)
                throw new ArgumentException("Packet framing is cut off.");
            int n = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(framed));
            if (n > framed.Length - 4)
                throw new ArgumentException("Packet framing is cut off.");
            list.Add(framed.Slice(4, n).ToArray());
            framed = framed[(4 + n)..];
        }
        return list;
    }

    internal static string Str(byte* text, int len) => len <= 0 ? "" : Encoding.UTF8.GetString(text, len);

    private static ushort U16(long v, string name) => FastMake.U16(v, name);

    private static uint U32(long v, string name) => FastMake.U32(v, name);
}
