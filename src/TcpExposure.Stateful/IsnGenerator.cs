using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TcpExposure.Stateful;

/// <summary>Chooses initial sequence numbers.</summary>
public interface IIsnGenerator
{
    /// <summary>The ISN for a connection between the given endpoints at time <paramref name="now"/>.</summary>
    uint Next(ReadOnlySpan<byte> localAddress, ushort localPort, ReadOnlySpan<byte> remoteAddress, ushort remotePort, TimeSpan now);
}

/// <summary>
/// RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where M is a timer
/// ticking every 4 microseconds and F is a keyed hash (HMAC-SHA-256 here, truncated to 32 bits).
/// The time comes in as an argument, so the result is reproducible on a virtual clock.
/// </summary>
public sealed class Rfc6528IsnGenerator : IIsnGenerator
{
    private readonly byte[] _key;

    /// <summary>A generator with <paramref name="key"/> as the secret; a random 32-byte key when null.</summary>
    public Rfc6528IsnGenerator(byte[]? key = null) => _key = key ?? RandomNumberGenerator.GetBytes(32);

    /// <inheritdoc/>
    public uint Next(ReadOnlySpan<byte> localAddress, ushort localPort, ReadOnlySpan<byte> remoteAddress, ushort remotePort, TimeSpan now)
    {
        Span<byte> input = stackalloc byte[localAddress.Length + remoteAddress.Length + 4];
        localAddress.CopyTo(input);
        BinaryPrimitives.WriteUInt16BigEndian(input[localAddress.Length..], localPort);
        remoteAddress.CopyTo(input[(localAddress.Length + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(input[^2..], remotePort);
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_key, input, hash);
        uint f = BinaryPrimitives.ReadUInt32BigEndian(hash);
        uint m = unchecked((uint)(now.Ticks / 40)); // 40 ticks of 100 ns = 4 us
        return unchecked(m + f);
    }
}

/// <summary>Always the same ISN: for tests that want round numbers on the wire.</summary>
public sealed class FixedIsnGenerator(uint isn) : IIsnGenerator
{
    /// <inheritdoc/>
    public uint Next(ReadOnlySpan<byte> localAddress, ushort localPort, ReadOnlySpan<byte> remoteAddress, ushort remotePort, TimeSpan now) => isn;
}
