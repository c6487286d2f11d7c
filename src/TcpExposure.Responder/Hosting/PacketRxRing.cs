using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TcpExposure.Responder.Hosting;

/// <summary>
/// A PACKET_MMAP TPACKET_V3 receive ring on an AF_PACKET socket: the kernel copies each packet the
/// socket's filter accepts straight into one of a fixed set of mmap'd blocks and hands a block to
/// user space when it is full or after a short timeout. The reader walks a block's frames in place
/// and gives the block back by writing its status word, so reading costs no system call per packet
/// (one <c>poll(2)</c> only when the next block is not ready yet) and no socket queue.
/// </summary>
/// <remarks>
/// Layouts are those of <c>linux/if_packet.h</c> on LP64: <c>tpacket_block_desc</c> (version,
/// offset_to_priv, then <c>tpacket_hdr_v1</c>: block_status at 8, num_pkts at 12,
/// offset_to_first_pkt at 16) and <c>tpacket3_hdr</c> (tp_next_offset at 0, tp_snaplen at 12,
/// tp_len at 16, tp_status at 20, tp_mac at 24, tp_net at 26).
/// </remarks>
internal sealed unsafe partial class PacketRxRing : IDisposable
{
    private const int SolPacket = 263, PacketRxRingOption = 5, PacketStatistics = 6, PacketVersion = 10, TpacketV3 = 2;
    private const uint TpStatusKernel = 0, TpStatusUser = 1;
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    private const short PollIn = 0x001, PollErr = 0x008, PollHup = 0x010, PollNval = 0x020;
    private const int SolSocket = 1, SoError = 4, EIntr = 4;

    private readonly nint _fd;
    private readonly byte* _map;
    private readonly nuint _mapLength;
    private readonly int _blockSize;
    private int _next;

    private PacketRxRing(nint fd, byte* map, nuint mapLength, int blockSize, int blockCount)
    {
        _fd = fd;
        _map = map;
        _mapLength = mapLength;
        _blockSize = blockSize;
        BlockCount = blockCount;
    }

    /// <summary>How many blocks the ring holds.</summary>
    public int BlockCount { get; }

    /// <summary>
    /// Turns <paramref name="socket"/> (AF_PACKET, no ring yet) into a TPACKET_V3 ring reader of
    /// <paramref name="blockCount"/> blocks of <paramref name="blockSize"/> bytes (a power-of-two
    /// multiple of the page size), each handed over after at most <paramref name="retireMs"/> ms.
    /// </summary>
    /// <exception cref="SocketException">The kernel refused the ring (old kernel, no memory).</exception>
    public static PacketRxRing Create(Socket socket, int blockSize, int blockCount, int retireMs)
    {
        nint fd = socket.Handle;
        int version = TpacketV3;
        if (setsockopt(fd, SolPacket, PacketVersion, &version, sizeof(int)) != 0)
            throw new SocketException(Marshal.GetLastPInvokeError());
        // struct tpacket_req3: block size, block count, frame size, frame count, retire timeout, private area, features.
        // V3 frames are variable-sized; frame size/count only have to be consistent with the blocks.
        const int frameSize = 2048;
        uint* req = stackalloc uint[7];
        req[0] = (uint)blockSize;
        req[1] = (uint)blockCount;
        req[2] = frameSize;
        req[3] = (uint)(blockSize / frameSize * blockCount);
        req[4] = (uint)retireMs;
        req[5] = 0;
        req[6] = 0;
        if (setsockopt(fd, SolPacket, PacketRxRingOption, req, 7 * sizeof(uint)) != 0)
            throw new SocketException(Marshal.GetLastPInvokeError());
        nuint length = (nuint)blockSize * (nuint)blockCount;
        nint map = mmap(0, length, ProtRead | ProtWrite, MapShared, fd, 0);
        if (map == -1)
            throw new SocketException(Marshal.GetLastPInvokeError());
        return new PacketRxRing(fd, (byte*)map, length, blockSize, blockCount);
    }

    /// <summary>
    /// The next block when the kernel has handed it over (null: not yet). The caller walks it with
    /// <see cref="FirstFrame"/> / <see cref="NextFrame"/> and then calls <see cref="Release"/>.
    /// </summary>
    public byte* TryTakeBlock()
    {
        byte* block = _map + (nint)_next * _blockSize;
        // Acquire: the frames are read only after the kernel's status store is seen.
        return (Volatile.Read(ref *(uint*)(block + 8)) & TpStatusUser) != 0 ? block : null;
    }

    /// <summary>Frames in a block taken with <see cref="TryTakeBlock"/>.</summary>
    public static int FrameCount(byte* block) => (int)*(uint*)(block + 12);

    /// <summary>The block's first frame header.</summary>
    public static byte* FirstFrame(byte* block) => block + *(uint*)(block + 16);

    /// <summary>The frame after <paramref name="frame"/> in the same block.</summary>
    public static byte* NextFrame(byte* frame) => frame + *(uint*)frame;

    /// <summary>The packet of a frame (SOCK_DGRAM: from the network header), as captured, and whether it was cut.</summary>
    public static ReadOnlySpan<byte> Packet(byte* frame, out bool truncated)
    {
        uint snap = *(uint*)(frame + 12), wire = *(uint*)(frame + 16);
        truncated = wire > snap;
        return new ReadOnlySpan<byte>(frame + *(ushort*)(frame + 26), (int)snap);
    }

    /// <summary>
    /// The frame's <c>sockaddr_ll</c> (after the 48-byte <c>tpacket3_hdr</c>): ifindex at 4,
    /// halen at 11, the sender's link-layer address at 12.
    /// </summary>
    public static byte* LinkAddress(byte* frame) => frame + 48;

    /// <summary>Gives the current block back to the kernel and moves to the next one.</summary>
    public void Release()
    {
        byte* block = _map + (nint)_next * _blockSize;
        Volatile.Write(ref *(uint*)(block + 8), TpStatusKernel); // release: our reads of the block come first
        _next = _next + 1 == BlockCount ? 0 : _next + 1;
    }

    /// <summary>
    /// Blocks until the socket is readable (a block is ready) or <paramref name="timeoutMs"/> passes.
    /// Throws <see cref="IOException"/> on a socket error (interface gone, namespace torn down).
    /// </summary>
    public void Wait(int timeoutMs)
    {
        long pfd = (uint)_fd | ((long)(PollIn | PollErr) << 32); // struct pollfd { int fd; short events; short revents; }
        int n = poll(&pfd, 1, timeoutMs);
        if (n < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr)
                return;
            throw new IOException($"Waiting on the packet ring failed (errno {errno}).");
        }
        short revents = (short)(pfd >> 48);
        if ((revents & (PollErr | PollHup | PollNval)) != 0)
        {
            int error = 0, size = sizeof(int);
            getsockopt(_fd, SolSocket, SoError, &error, &size); // reading it clears it
            // As recvmmsg on the same socket would have failed with it; POLLERR with no error left is a spurious wake-up.
            if (error != 0 || (revents & PollNval) != 0)
                throw new IOException($"The packet socket failed (errno {error}).");
        }
    }

    /// <summary>Packets the kernel dropped because the ring was full since the last call (PACKET_STATISTICS resets it).</summary>
    public long TakeDrops()
    {
        // struct tpacket_stats_v3 { tp_packets, tp_drops, tp_freeze_q_cnt }
        uint* stats = stackalloc uint[3];
        int size = 3 * sizeof(uint);
        return getsockopt(_fd, SolPacket, PacketStatistics, stats, &size) == 0 ? stats[1] : 0;
    }

    /// <inheritdoc />
    public void Dispose() => munmap((nint)_map, _mapLength);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(nint fd, int level, int name, void* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(nint fd, int level, int name, void* value, int* length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, nint fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(void* fds, nuint count, int timeoutMs);
}
