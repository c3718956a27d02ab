package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.apache.avro.specific.SpecificRecord;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkSum;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RecordKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.junit.jupiter.api.Test;

class WireCodecTest {
    static final SigningKeyPair KEY = SigningKeyPair.generate();

    static List<SpecificRecord> samples() {
        RoundOpened round = Fixtures.round("mnist", 3);
        Chunker.PreparedUpdate upd = Chunker.prepare(
                "alice",
                round,
                "u-1",
                Fixtures.ciphertexts(7, 300, 2),
                10,
                Fixtures.NOW,
                KEY.privateKey(),
                Chunker.DEFAULT_MAX_RECORD_BYTES);
        Hash h = CanonicalHash.of(upd.commit());
        UpdateAccepted acc = UpdateAccepted.newBuilder()
                .setModelId("mnist")
                .setRound(3)
                .setClientId("alice")
                .setUpdateId("u-1")
                .setUpdateHash(h.toByteBuffer())
                .setWeight(10)
                .setAcceptedAtEpochMillis(Fixtures.NOW)
                .build();
        UpdateRejected rej = UpdateRejected.newBuilder()
                .setModelId("mnist")
                .setRound(3)
                .setClientId(null)
                .setUpdateId(null)
                .setRecordKind(RecordKind.UPDATE_CHUNK)
                .setReason(ReasonCode.CHUNK_HASH_MISMATCH)
                .setDetail("x")
                .setAtEpochMillis(Fixtures.NOW)
                .build();
        AggregatePublished agg = Signatures.sign(
                AggregatePublished.newBuilder()
                        .setModelId("mnist")
                        .setRound(3)
                        .setStatus(AggregateStatus.COMPLETED)
                        .setChunkSums(List.of(new ChunkSum(0, List.of(ByteBuffer.wrap(new byte[] {1, 2})))))
                        .setParticipants(List.of("alice"))
                        .setTotalWeight(10)
                        .setAcceptedUpdateHashes(List.of(h.toByteBuffer()))
                        .setAcceptedUpdateRoot(
                                MerkleHashes.acceptedUpdateRoot(List.of(h)).toByteBuffer())
                        .setAcceptedCount(1)
                        .setRejectedCount(0)
                        .setHeParamsId("ckks-8192-v1")
                        .setAggregatorId("agg-1")
                        .setClosedAtEpochMillis(Fixtures.NOW)
                        .setSignature(Fixtures.empty())
                        .build(),
                KEY.privateKey());
        ModelVersionPublished mv = ModelVersionPublished.newBuilder()
                .setModelId("mnist")
                .setVersionHash(Fixtures.empty())
                .setParentHash(Fixtures.BASE.toByteBuffer())
                .setAggregateHash(CanonicalHash.of(agg).toByteBuffer())
                .setAcceptedUpdateRoot(agg.getAcceptedUpdateRoot())
                .setRound(3)
                .setWeightsHash(Hash.sha256(new byte[] {4}).toByteBuffer())
                .setPublishedAtEpochMillis(Fixtures.NOW)
                .setSignature(Fixtures.empty())
                .build();
        mv.setVersionHash(CanonicalHash.versionHash(mv).toByteBuffer());
        mv = Signatures.sign(mv, KEY.privateKey());
        LogEntry le = LogEntry.newBuilder()
                .setKind(LogEntryKind.UPDATE_ACCEPTED)
                .setModelId("mnist")
                .setRound(3)
                .setSubjectHash(h.toByteBuffer())
                .setClientId("alice")
                .setUpdateId("u-1")
                .setPayload(acc)
                .setAtEpochMillis(Fixtures.NOW)
                .build();
        SignedTreeHead sth = MerkleLog.inMemory("l").signedTreeHead(KEY.privateKey(), Fixtures.NOW);
        return List.of(
                round,
                upd.chunks().get(0),
                upd.commit(),
                new UpdateEnvelope(upd.chunks().get(2)),
                new UpdateEnvelope(upd.commit()),
                acc,
                rej,
                agg,
                mv,
                le,
                sth,
                round.getChunkLayout());
    }

    @Test
    void everyRecordRoundTrips() throws Exception {
        for (SpecificRecord r : samples()) {
            byte[] bytes = WireCodec.DEFAULT.encode(r);
            SpecificRecord back = WireCodec.DEFAULT.decode(bytes, r.getClass());
            assertEquals(r, back, r.getSchema().getName());
            assertArrayEquals(bytes, WireCodec.DEFAULT.encode(back));
            assertEquals(CanonicalHash.of(r), CanonicalHash.of(back));
        }
    }

    @Test
    void garbageGivesOnlyWireFormatException() {
        Random rnd = new Random(42);
        for (SpecificRecord r : samples()) {
            byte[] good = WireCodec.DEFAULT.encode(r);
            for (int i = 0; i < 300; i++) {
                byte[] bad;
                if (i % 3 == 0) {
                    bad = new byte[rnd.nextInt(64)];
                    rnd.nextBytes(bad);
                } else if (i % 3 == 1) {
                    bad = good.clone();
                    bad[rnd.nextInt(bad.length)] = (byte) rnd.nextInt();
                } else {
                    bad = java.util.Arrays.copyOf(good, rnd.nextInt(good.length));
                }
                try {
                    WireCodec.DEFAULT.decode(bad, r.getClass());
                } catch (WireFormatException e) {
                    assertEquals(ReasonCode.MALFORMED, e.reasonCode());
                }
            }
        }
    }

    @Test
    void hostileLengthPrefixesDoNotAllocate() {
        // UpdateChunk: 3 strings, 2 ints, then an array block count of ~2^31 and a bytes length of ~2^30.
        byte[] hugeArray = {2, 'a', 2, 'm', 2, 2, 'u', 2, (byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f};
        WireFormatException e = assertThrows(
                WireFormatException.class,
                () -> WireCodec.DEFAULT.decode(hugeArray, org.fedseal.protocol.wire.UpdateChunk.class));
        assertEquals(ReasonCode.MALFORMED, e.reasonCode());
        byte[] hugeBytes = {2, 'a', 2, 'm', 2, 2, 'u', 2, 2, (byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
        assertThrows(
                WireFormatException.class,
                () -> WireCodec.DEFAULT.decode(hugeBytes, org.fedseal.protocol.wire.UpdateChunk.class));
        assertThrows(WireFormatException.class, () -> WireCodec.DEFAULT.decode(null, RoundOpened.class));
    }

    @Test
    void sizeLimitsAndTrailingBytes() {
        WireCodec small = WireCodec.withMaxRecordBytes(64);
        SpecificRecord r = samples().get(0);
        assertThrows(RecordTooLargeException.class, () -> small.encode(samples().get(1)));
        WireFormatException e =
                assertThrows(WireFormatException.class, () -> small.decode(new byte[65], RoundOpened.class));
        assertEquals(ReasonCode.OVERSIZED, e.reasonCode());
        byte[] good = WireCodec.DEFAULT.encode(r);
        byte[] trailing = java.util.Arrays.copyOf(good, good.length + 1);
        assertThrows(WireFormatException.class, () -> WireCodec.DEFAULT.decode(trailing, RoundOpened.class));
        assertThrows(IllegalArgumentException.class, () -> WireCodec.DEFAULT.encode(new RoundOpened()));
    }

    @Test
    void canonicalHashIgnoresSignatureOnly() {
        AggregatePublished agg = (AggregatePublished) samples().get(7);
        AggregatePublished unsigned = AggregatePublished.newBuilder(agg)
                .setSignature(Fixtures.empty())
                .build();
        assertEquals(CanonicalHash.of(agg), CanonicalHash.of(unsigned));
        assertEquals(64, CanonicalHash.of(agg).toString().length());
        AggregatePublished other =
                AggregatePublished.newBuilder(agg).setTotalWeight(11).build();
        org.junit.jupiter.api.Assertions.assertNotEquals(CanonicalHash.of(agg), CanonicalHash.of(other));
        assertEquals(64, agg.getSignature().remaining());
    }
}
