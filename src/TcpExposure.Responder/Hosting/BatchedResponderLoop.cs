using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TcpExposure.Responder.Stateless;

namespace TcpExposure.Responder.Hosting;

/// <summary>
/// The responder's fast path on <see cref="BatchedRawSockets"/>: a dedicated thread walks the
/// capture socket's TPACKET_V3 ring block by block (<c>poll</c> only when the next block is not
/// ready), judges every packet in place with <see cref="StatelessResponder"/>, and sends the
/// answers with one <c>sendmmsg</c> per run of same-family answers (up to 128 per call). Without a
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
    private readonly bool[] _txV6 = new bool[TxMessages];
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
                    Answer(packet, onAnswer);
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
    private void Answer(ReadOnlySpan<byte> packet, ResponderAnswerHandler? onAnswer)
    {
        if (_txCount + 2 > TxMessages || TxBytes - _txUsed < TxReserve)
            Flush();
        var output = _tx.AsSpan(_txUsed, TxReserve);
        var result = _host.Process(packet, output);
        if (result.Verdict != ResponderVerdict.Answered)
            return;
        Queue(result.FirstLength);
        if (result.SecondLength > 0)
            Queue(result.SecondLength);
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

    /// <summary>Adds the <paramref name="length"/> bytes at the end of the used part of the send buffer as the next message.</summary>
    private void Queue(int length)
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
        _txV6[i] = v6;
        new Span<byte>(name, NameSize).Clear();
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

    /// <summary>Sends every queued answer, one sendmmsg per run of same-family messages; a refused message is counted and skipped.</summary>
    private void Flush()
    {
        var counters = _host.Counters;
        int i = 0;
        while (i < _txCount)
        {
            bool v6 = _txV6[i];
            int end = i + 1;
            while (end < _txCount && _txV6[end] == v6)
                end++;
            nint fd = v6 ? _sockets.Send6Handle : _sockets.Send4Handle;
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
