using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TcpExposure.Craft.Transport;

/// <summary>
/// Sends a batch of same-length packets to one destination with a single <c>sendmmsg(2)</c>: the
/// packets sit side by side in one pinned buffer that the caller edits in place between sends
/// (<see cref="Packet"/>), and the message headers are built once. No allocation per send.
/// </summary>
public sealed unsafe class RawBatchSender : IDisposable
{
    private const int MsgHdrSize = 64;   // struct mmsghdr on LP64 (msghdr 56 + msg_len + padding)
    private const int IovecSize = 16;
    private readonly Socket _socket;
    private readonly byte[] _packets;    // pinned
    private readonly int _length;
    private readonly byte* _native;      // mmsghdr[count], iovec[count], sockaddr
    private bool _disposed;

    internal RawBatchSender(Socket socket, ReadOnlySpan<byte> template, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (template.Length < 20) throw new ArgumentException("The template is not an IP packet.", nameof(template));
        _socket = socket;
        Count = count;
        _length = template.Length;
        _packets = GC.AllocateArray<byte>(count * _length, pinned: true);
        for (int i = 0; i < count; i++)
            template.CopyTo(_packets.AsSpan(i * _length));

        bool v6 = template[0] >> 4 == 6;
        var to = v6
            ? new IPEndPoint(new IPAddress(template.Slice(24, 16)), 0).Serialize()
            : new IPEndPoint(new IPAddress(template.Slice(16, 4)), 0).Serialize();
        int nameLength = to.Size;
        _native = (byte*)NativeMemory.AllocZeroed((nuint)(count * (MsgHdrSize + IovecSize) + 128));
        byte* name = _native + count * (MsgHdrSize + IovecSize);
        to.Buffer.Span[..nameLength].CopyTo(new Span<byte>(name, nameLength));
        byte* packets = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_packets));
        for (int i = 0; i < count; i++)
        {
            byte* msg = _native + i * MsgHdrSize;
            byte* iov = _native + count * MsgHdrSize + i * IovecSize;
            *(nint*)iov = (nint)(packets + i * _length);
            *(nuint*)(iov + 8) = (nuint)_length;
            *(nint*)msg = (nint)name;                 // msg_name
            *(uint*)(msg + 8) = (uint)nameLength;     // msg_namelen
            *(nint*)(msg + 16) = (nint)iov;           // msg_iov
            *(nuint*)(msg + 24) = 1;                  // msg_iovlen
        }
    }

    /// <summary>Packets per batch.</summary>
    public int Count { get; }

    /// <summary>The bytes of packet <paramref name="index"/> of the batch, to edit before <see cref="Send"/>.</summary>
    public Span<byte> Packet(int index) => _packets.AsSpan(index * _length, _length);

    /// <summary>Sends the first <paramref name="count"/> packets; returns how many the kernel took (fewer on a full queue).</summary>
    public int Send(int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int sent = Native.sendmmsg(_socket.Handle, _native, (uint)Math.Min(count, Count), 0);
        return sent < 0 ? 0 : sent;
    }

    /// <summary>Frees the message headers; the socket belongs to the caller.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMemory.Free(_native);
    }
}
