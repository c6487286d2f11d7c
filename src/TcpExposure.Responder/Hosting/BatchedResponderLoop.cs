using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TcpExposure.Responder.Stateless;

namespace TcpExposure.Responder.Hosting;

/// <summary>
/// The responder's fast path on <see cref="BatchedRawSockets"/>: a dedicated thread walks the
/// capture socket's TPACKET_V3 ring block by block (<c>poll</c> only when the next block is not
/// ready), judges every packet in place with <see cref="StatelessResponder"/>, and sends the
/// answers with one <c>sendmmsg</c> per run of answers for the same socket (up to 128 per call):
/// by default the AF_PACKET link socket, addressed to the interface and link-layer address the
/// segment came from; raw IPv4/IPv6 sockets otherwise. Without a
/// ring it blocks in <c>recvmmsg</c> instead (MSG_WAITFORONE: wakes for the first packet, then
/// takes whatever else is queued, up to a batch). Pinned buffers and message headers are built
/// once, so nothing is allocated per packet or per batch.
/// </summary>
internal sealed unsafe class BatchedResponderLoop : IDisposable
{
    private const int MmsgSize = 64;        // struct mmsghdr on LP64 (msghdr 56 + msg_len + padding)
    private const int IovecSize = 16;
    private const int NameSize = 32;        // room for a sockaddr_in6 (28)
    private const int RxBatch = 64;
    private const int RxSlot = 65536 + 64;  // any IP packet whole, as the old loop's buffer
    private const int TxMessages = 2 * RxBatch;
    private const int TxBytes = 1 << 20;
    private const int TxReserve = 2 * 65536; // what one answer pair may take, as the old loop's buffer
    private const int MsgWaitForOne = 0x10000, MsgTrunc = 0x20;
    private const int EIntr = 4, EAgain = 11;

    private readonly ResponderHost _host;
    private readonly BatchedRawSockets _sockets;
    private readonly byte[] _rx = GC.AllocateUninitializedArray<byte>(RxBatch * RxSlot, pinned: true);
    private readonly byte[] _tx = GC.AllocateUninitializedArray<byte>(TxBytes, pinned: true);
    private readonly byte* _rxHdr;   // mmsghdr[RxBatch], iovec[RxBatch]
    private readonly byte* _txHdr;   // mmsghdr[TxMessages], iovec[TxMessages], sockaddr[TxMessages]
    private const byte ChannelRaw4 = 0, ChannelRaw6 = 1, ChannelLink = 2;
    private readonly byte[] _txChannel = new byte[TxMessages];
    private int _txCount, _txUsed;

    public BatchedResponderLoop(ResponderHost host, BatchedRawSockets sockets)
    {
        _host = host;
        _sockets = sockets;
        _rxHdr = (byte*)NativeMemory.AllocZeroed((nuint)(RxBatch * (MmsgSize + IovecSize)));
        _txHdr = (byte*)NativeMemory.AllocZeroed((nuint)(TxMessages * (MmsgSize + IovecSize + NameSize)));
        byte* rx = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_rx));
        for (int i = 0; i < RxBatch; i++)
        {
            byte* msg = _rxHdr + i * MmsgSize;
            byte* iov = _rxHdr + RxBatch * MmsgSize + i * IovecSize;
            *(nint*)iov = (nint)(rx + i * RxSlot);
            *(nuint*)(iov + 8) = RxSlot;
            *(nint*)(msg + 16) = (nint)iov;   // msg_iov
            *(nuint*)(msg + 24) = 1;          // msg_iovlen
        }
        for (int i = 0; i < TxMessages; i++)
        {
            byte* msg = _txHdr + i * MmsgSize;
            *(nint*)msg = (nint)TxName(i);              // msg_name
            *(nint*)(msg + 16) = (nint)TxIovec(i);      // msg_iov
            *(nuint*)(msg + 24) = 1;                    // msg_iovlen
        }
    }

    private byte* TxIovec(int i) => _txHdr + TxMessages * MmsgSize + i * IovecSize;
    private byte* TxName(int i) => _txHdr + TxMessages * (MmsgSize + IovecSize) + i * NameSize;

    /// <summary>Runs the loop on a new thread; the task ends when <paramref name="cancellationToken"/> fires or the sockets fail.</summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(cancellationToken);
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "responder" };
        thread.Start();
        return done.Task;
    }

    private void Run(CancellationToken cancellationToken)
    {
        if (_sockets.Ring is { } ring)
            RunRing(ring, cancellationToken);
        else
            RunRecvmmsg(cancellationToken);
    }

    private void RunRing(PacketRxRing ring, CancellationToken cancellationToken)
    {
        var counters = _host.Counters;
        var onAnswer = _host.OnAnswer;
        int blocks = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                byte* block = ring.TryTakeBlock();
                if (block is null)
                {
                    counters.CountKernelDrops(ring.TakeDrops());
                    ring.Wait(100); // bounded, so cancellation is seen within 100 ms when idle
                    continue;
                }
                int frames = PacketRxRing.FrameCount(block);
                byte* frame = PacketRxRing.FirstFrame(block);
                for (int i = 0; i < frames; i++, frame = PacketRxRing.NextFrame(frame))
                {
                    var packet = PacketRxRing.Packet(frame, out bool truncated);
                    counters.CountReceived(truncated);
                    Answer(packet, onAnswer, PacketRxRing.LinkAddress(frame));
                }
                Flush();
                ring.Release();
                if (++blocks % 16 == 0)
                    counters.CountKernelDrops(ring.TakeDrops());
            }
        }
        finally
        {
            counters.CountKernelDrops(ring.TakeDrops());
        }
    }

    /// <summary>Judges one packet and queues its answers, sending what is queued first when the send buffers are full.</summary>
    /// <param name="packet">The segment.</param>
    /// <param name="onAnswer">The host's answer callback.</param>
    /// <param name="from">The segment's <c>sockaddr_ll</c> (null: not known; answer through raw IP sockets).</param>
    private void Answer(ReadOnlySpan<byte> packet, ResponderAnswerHandler? onAnswer, byte* from = null)
    {
        if (_txCount + 2 > TxMessages || TxBytes - _txUsed < TxReserve)
            Flush();
        var output = _tx.AsSpan(_txUsed, TxReserve);
        var result = _host.Process(packet, output);
        if (result.Verdict != ResponderVerdict.Answered)
            return;
        Queue(result.FirstLength, from);
        if (result.SecondLength > 0)
            Queue(result.SecondLength, from);
        onAnswer?.Invoke(packet, output[..result.TotalLength], result);
    }

    private void RunRecvmmsg(CancellationToken cancellationToken)
    {
        var counters = _host.Counters;
        var onAnswer = _host.OnAnswer;
        nint fd = _sockets.CaptureHandle;
        while (!cancellationToken.IsCancellationRequested)
        {
            int n = BatchedRawSockets.recvmmsg(fd, _rxHdr, RxBatch, MsgWaitForOne | MsgTrunc, null);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is EIntr or EAgain)
                    continue; // SO_RCVTIMEO expired with nothing queued: look at the token again
                throw new IOException($"Receiving on the packet socket failed (errno {errno}).");
            }
            for (int i = 0; i < n; i++)
            {
                int length = (int)*(uint*)(_rxHdr + i * MmsgSize + 56); // msg_len: the whole length (MSG_TRUNC)
                bool truncated = length > RxSlot;
                counters.CountReceived(truncated);
                Answer(_rx.AsSpan(i * RxSlot, Math.Min(length, RxSlot)), onAnswer);
            }
            Flush();
        }
    }

    /// <summary>
    /// Adds the <paramref name="length"/> bytes at the end of the used part of the send buffer as
    /// the next message: to the link-layer sender in <paramref name="from"/> when there is a link
    /// socket and the sender has a 6-byte address, else to the packet's own destination on a raw socket.
    /// </summary>
    private void Queue(int length, byte* from)
    {
        int i = _txCount++;
        byte* packet = (byte*)Unsafe.AsPointer(ref _tx[_txUsed]);
        _txUsed += length;
        byte* iov = TxIovec(i);
        *(nint*)iov = (nint)packet;
        *(nuint*)(iov + 8) = (nuint)length;
        byte* name = TxName(i);
        byte* msg = _txHdr + i * MmsgSize;
        bool v6 = length >= 40 && packet[0] >> 4 == 6;
        new Span<byte>(name, NameSize).Clear();
        if (from is not null && from[11] == 6 && _sockets.LinkHandle >= 0)
        {
            // struct sockaddr_ll: family, protocol (big-endian), ifindex, hatype, pkttype, halen, addr[8]
            _txChannel[i] = ChannelLink;
            *(ushort*)name = 17; // AF_PACKET
            *(ushort*)(name + 2) = v6 ? (ushort)0xDD86 : (ushort)0x0008; // ETH_P_IPV6 / ETH_P_IP, network order
            *(int*)(name + 4) = *(int*)(from + 4);
            name[11] = 6;
            Buffer.MemoryCopy(from + 12, name + 12, 8, 6);
            *(uint*)(msg + 8) = 20;
            return;
        }
        _txChannel[i] = v6 ? ChannelRaw6 : ChannelRaw4;
        if (v6)
        {
            *(ushort*)name = 10; // AF_INET6; port, flow info, scope 0; sendto's destination is the packet's own
            Buffer.MemoryCopy(packet + 24, name + 8, 16, 16);
            *(uint*)(msg + 8) = 28;
        }
        else
        {
            *(ushort*)name = 2; // AF_INET
            if (length >= 20)
                Buffer.MemoryCopy(packet + 16, name + 4, 4, 4);
            *(uint*)(msg + 8) = 16;
        }
    }

    /// <summary>Sends every queued answer, one sendmmsg per run of messages for the same socket; a refused message is counted and skipped.</summary>
    private void Flush()
    {
        var counters = _host.Counters;
        int i = 0;
        while (i < _txCount)
        {
            byte channel = _txChannel[i];
            int end = i + 1;
            while (end < _txCount && _txChannel[end] == channel)
                end++;
            nint fd = channel switch { ChannelLink => _sockets.LinkHandle, ChannelRaw6 => _sockets.Send6Handle, _ => _sockets.Send4Handle };
            while (i < end)
            {
                int sent = fd < 0 ? -1 : BatchedRawSockets.sendmmsg(fd, _txHdr + i * MmsgSize, (uint)(end - i), 0);
                if (sent <= 0)
                {
                    // The first message of the run was refused (no route, netfilter, full queue): skip it.
                    counters.CountSendFailure();
                    i++;
                    continue;
                }
                for (int k = 0; k < sent; k++)
                    counters.CountSent();
                i += sent;
            }
        }
        _txCount = 0;
        _txUsed = 0;
    }

    public void Dispose()
    {
        NativeMemory.Free(_rxHdr);
        NativeMemory.Free(_txHdr);
    }
}
