using System.Buffers.Binary;
using System.Text;
using TcpExposure.Craft.Pcap;

namespace TcpExposure.Craft.Tests.Pcap;

public class PcapCorruptionTests
{
    private static byte[] Classic(int packets, bool nanosecond = false)
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, LinkType.Raw, nanosecond, leaveOpen: true))
            for (int i = 0; i < packets; i++)
                w.Write(Samples.Syn4(i), DateTimeOffset.UnixEpoch.AddSeconds(1_000_000 + i));
        return ms.ToArray();
    }

    private static byte[] Ng(bool bigEndian) => new PcapNgBuilder(bigEndian).Section().Interface(101, tsresol: 9)
        .Enhanced(0, 5, Samples.Syn4(0)).Unknown(4, 16).Enhanced(0, 6, Samples.Data6(7)).Simple(Samples.Syn4(1)).ToArray();

    /// <summary>Reads all it can; returns the records before an error and the error, if any.</summary>
    private static (List<PcapRecord> Records, Exception? Error) ReadAll(byte[] bytes)
    {
        var records = new List<PcapRecord>();
        try
        {
            foreach (var r in PcapReader.Read(new MemoryStream(bytes)))
                records.Add(r);
            return (records, null);
        }
        catch (Exception e)
        {
            return (records, e);
        }
    }

    [Test]
    public void EmptyInputIsInvalidData()
    {
        var (_, e) = ReadAll([]);
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain("empty"));
    }

    [Test]
    public void TextIsNotACaptureFile()
    {
        var (_, e) = ReadAll(Encoding.ASCII.GetBytes("hello, this is not a pcap"));
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain("Not a pcap or pcapng file").And.Contain("68656c6c"));
    }

    [Test]
    public void TruncatedLastRecordYieldsTheCompleteOnesThenReportsWhere()
    {
        var full = Classic(3);
        var cut = full[..^10];
        var (records, e) = ReadAll(cut);
        Assert.That(records, Has.Count.EqualTo(2));
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain("truncated").And.Contain("record 2"));
    }

    [Test]
    public void TruncatedFileHeaderIsReported()
    {
        var (_, e) = ReadAll(Classic(0)[..10]);
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain("truncated"));
    }

    [Test]
    public void AbsurdCapturedLengthIsRefusedWithoutAllocatingIt()
    {
        var f = Classic(1);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(24 + 8), 0xFFFFFFF0);
        var (_, e) = ReadAll(f);
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain("4294967280"));
    }

    [Test]
    public void PcapngTrailingLengthMismatchIsCorrupt()
    {
        var f = Ng(false);
        f[^1] ^= 0x40; // the last block's trailing length
        var (records, e) = ReadAll(f);
        Assert.That(records, Has.Count.EqualTo(2));
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain("ends with"));
    }

    [Test]
    public void PcapngBadByteOrderMagicIsCorrupt()
    {
        var f = Ng(true);
        f[8] = 0x99;
        var (_, e) = ReadAll(f);
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain("byte-order magic"));
    }

    [Test]
    public void AHugePcapngBlockLengthOnAShortStreamIsTruncationNotAnAllocation()
    {
        var f = Ng(false);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(28 + 4), 60 << 20); // the IDB claims 60 MiB
        long before = GC.GetAllocatedBytesForCurrentThread();
        var (_, e) = ReadAll(f);
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain("truncated"));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(4 << 20));
    }

    /// <summary>
    /// Seeded mutations of classic and pcapng files (either byte order), each also cut at a
    /// random length: the reader ends normally or with InvalidDataException, never anything else.
    /// </summary>
    [Test]
    public void MutatedAndTruncatedFilesOnlyEverRaiseInvalidData()
    {
        var seeds = new[] { Classic(4), Classic(4, nanosecond: true), Ng(false), Ng(true) };
        var rng = new Random(20261122);
        int invalid = 0, clean = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var f = (byte[])seeds[i % seeds.Length].Clone();
            int flips = rng.Next(1, 6);
            for (int k = 0; k < flips; k++)
            {
                int at = rng.Next(f.Length);
                f[at] = rng.Next(3) switch { 0 => (byte)rng.Next(256), 1 => 0xFF, _ => 0 };
            }
            if (rng.Next(3) == 0)
                f = f[..rng.Next(f.Length)];
            var (_, e) = ReadAll(f);
            if (e is null) clean++;
            else if (e is InvalidDataException) invalid++;
            else Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(f)}");
        }
        Assert.That(invalid, Is.GreaterThan(1000), "the mutations should hit many bad headers");
        Assert.That(clean, Is.GreaterThan(1000), "payload-only mutations should read cleanly");
    }

    [Test]
    public void NonSeekableStreamIsReadTheSame()
    {
        var f = Ng(true);
        var records = PcapReader.Read(new TrickleStream(f)).ToList();
        Assert.That(records, Has.Count.EqualTo(3));
        Assert.That(records[1].Data.ToArray(), Is.EqualTo(Samples.Data6(7)));
    }

    /// <summary>Returns at most 3 bytes per read and cannot seek, like a pipe.</summary>
    private sealed class TrickleStream(byte[] data) : Stream
    {
        private int _at;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 3), data.Length - _at);
            Array.Copy(data, _at, buffer, offset, n);
            _at += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
