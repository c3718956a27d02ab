package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RecordKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class UpdateValidatorTest {
    SigningKeyPair client = SigningKeyPair.generate();
    Fixtures.Ctx ctx;
    UpdateValidator v;
    RoundOpened r1 = Fixtures.round("mnist", 1);
    Chunker.PreparedUpdate upd;

    @BeforeEach
    void setUp() {
        ctx = new Fixtures.Ctx()
                .add(r1, false)
                .add(Fixtures.round("mnist", 2), false)
                .add(Fixtures.round("cifar", 1), false);
        ctx.keys.put("alice", client.publicKey());
        v = new UpdateValidator(ctx);
        upd = Chunker.prepare(
                "alice",
                r1,
                "u-1",
                Fixtures.ciphertexts(7, 2000, 1),
                50,
                Fixtures.NOW,
                client.privateKey(),
                Chunker.DEFAULT_MAX_RECORD_BYTES);
    }

    void assertReason(ReasonCode expected, ValidationResult r) {
        assertEquals(expected, r.reasonCode(), r.toString());
    }

    @Test
    void completeSignedUpdateIsAccepted() {
        assertEquals(3, upd.chunks().size());
        assertTrue(v.validateCommit(upd.commit()).isAccepted());
        for (UpdateChunk c : upd.chunks()) {
            assertTrue(v.validateChunk(c).isAccepted());
        }
        ValidationResult r = v.validateComplete(upd.commit(), upd.chunks());
        assertTrue(r.isAccepted(), r.toString());
        assertNull(r.reasonCode());
        assertEquals(
                Fixtures.ciphertexts(7, 2000, 1).get(6).length,
                Chunker.reassemble(upd.chunks()).get(6).length);
    }

    @Test
    void kafkaRecordsCheckAgainstTheirKey() {
        UpdateKey key = new UpdateKey("mnist", 1, "alice");
        byte[] value = WireCodec.DEFAULT.encode(new UpdateEnvelope(upd.commit()));
        assertTrue(v.check(key.toBytes(), value).result().isAccepted());
        assertReason(
                ReasonCode.WRONG_ROUND,
                v.check(new UpdateKey("mnist", 2, "alice").toBytes(), value).result());
        assertReason(
                ReasonCode.WRONG_MODEL,
                v.check(new UpdateKey("cifar", 1, "alice").toBytes(), value).result());
        assertReason(
                ReasonCode.MALFORMED,
                v.check(key.toBytes(), new byte[] {5, 1, 2}).result());
        assertReason(
                ReasonCode.OVERSIZED, v.check(key.toBytes(), new byte[2 << 20]).result());
    }

    @Test
    void chunkFromAnotherRoundOrModelIsDetected() {
        UpdateChunk c = upd.chunks().get(0);
        List<UpdateChunk> otherRound = new ArrayList<>(upd.chunks());
        otherRound.set(0, UpdateChunk.newBuilder(c).setRound(2).build());
        assertReason(ReasonCode.WRONG_ROUND, v.validateComplete(upd.commit(), otherRound));
        List<UpdateChunk> otherModel = new ArrayList<>(upd.chunks());
        otherModel.set(0, UpdateChunk.newBuilder(c).setModelId("cifar").build());
        assertReason(ReasonCode.WRONG_MODEL, v.validateComplete(upd.commit(), otherModel));
        assertReason(
                ReasonCode.UNKNOWN_ROUND,
                v.validateChunk(UpdateChunk.newBuilder(c).setRound(9).build()));
        List<UpdateChunk> otherUpdate = new ArrayList<>(upd.chunks());
        otherUpdate.set(
                1,
                UpdateChunk.newBuilder(upd.chunks().get(1)).setUpdateId("u-2").build());
        assertReason(ReasonCode.CHUNK_MISMATCH, v.validateComplete(upd.commit(), otherUpdate));
    }

    @Test
    void badSignatureIsDetected() {
        UpdateCommit forged =
                UpdateCommit.newBuilder(upd.commit()).setWeight(5000).build();
        assertReason(ReasonCode.BAD_SIGNATURE, v.validateCommit(forged));
        UpdateCommit otherKey =
                Signatures.sign(upd.commit(), SigningKeyPair.generate().privateKey());
        assertReason(ReasonCode.BAD_SIGNATURE, v.validateCommit(otherKey));
        UpdateCommit garbageSig = UpdateCommit.newBuilder(upd.commit())
                .setSignature(ByteBuffer.wrap(new byte[3]))
                .build();
        assertReason(ReasonCode.BAD_SIGNATURE, v.validateCommit(garbageSig));
        UpdateCommit unknown = Signatures.sign(
                UpdateCommit.newBuilder(upd.commit()).setClientId("mallory").build(), client.privateKey());
        assertReason(ReasonCode.UNKNOWN_CLIENT, v.validateCommit(unknown));
    }

    @Test
    void chunkHashMismatchAndMissingChunksAreDetected() {
        List<UpdateChunk> tampered = new ArrayList<>(upd.chunks());
        UpdateChunk c = tampered.get(2);
        byte[] ct = Chunker.reassemble(List.of(c)).get(0);
        ct[10] ^= 1;
        List<ByteBuffer> cts = new ArrayList<>(c.getCiphertexts());
        cts.set(0, ByteBuffer.wrap(ct));
        tampered.set(2, UpdateChunk.newBuilder(c).setCiphertexts(cts).build());
        assertReason(ReasonCode.CHUNK_HASH_MISMATCH, v.validateComplete(upd.commit(), tampered));
        assertReason(
                ReasonCode.CHUNK_MISSING,
                v.validateComplete(upd.commit(), upd.chunks().subList(0, 2)));
        List<UpdateChunk> dup = new ArrayList<>(upd.chunks());
        dup.add(upd.chunks().get(0));
        assertTrue(v.validateComplete(upd.commit(), dup).isAccepted());
    }

    @Test
    void roundStateBaseModelAndParametersAreChecked() {
        ctx.add(r1, true);
        assertReason(ReasonCode.ROUND_CLOSED, v.validateCommit(upd.commit()));
        ctx.add(r1, false);
        ctx.now = r1.getDeadlineEpochMillis() + 1;
        assertReason(ReasonCode.LATE, v.validateCommit(upd.commit()));
        assertReason(ReasonCode.LATE, v.validateChunk(upd.chunks().get(0)));
        ctx.now = Fixtures.NOW;
        UpdateCommit wrongBase = Signatures.sign(
                UpdateCommit.newBuilder(upd.commit())
                        .setBaseModelHash(Hash.sha256(new byte[] {7}).toByteBuffer())
                        .build(),
                client.privateKey());
        assertReason(ReasonCode.WRONG_BASE_MODEL, v.validateCommit(wrongBase));
        UpdateCommit wrongParams = Signatures.sign(
                UpdateCommit.newBuilder(upd.commit())
                        .setHeParamsId("ckks-16384-v1")
                        .build(),
                client.privateKey());
        assertReason(ReasonCode.WRONG_HE_PARAMS, v.validateCommit(wrongParams));
        UpdateCommit wrongCount = Signatures.sign(
                UpdateCommit.newBuilder(upd.commit()).setChunkCount(4).build(), client.privateKey());
        assertReason(ReasonCode.BAD_CHUNK_LAYOUT, v.validateCommit(wrongCount));
        UpdateCommit zeroWeight = Signatures.sign(
                UpdateCommit.newBuilder(upd.commit()).setWeight(0).build(), client.privateKey());
        assertReason(ReasonCode.INVALID_WEIGHT, v.validateCommit(zeroWeight));
        for (long w :
                new long[] {-1, Long.MIN_VALUE, Fixtures.BOUNDS.maxUpdateWeight() + 1, 1L << 62, Long.MAX_VALUE}) {
            UpdateCommit tooHeavy = Signatures.sign(
                    UpdateCommit.newBuilder(upd.commit()).setWeight(w).build(), client.privateKey());
            assertReason(ReasonCode.INVALID_WEIGHT, v.validateCommit(tooHeavy));
        }
        UpdateCommit heaviest = Signatures.sign(
                UpdateCommit.newBuilder(upd.commit())
                        .setWeight(Fixtures.BOUNDS.maxUpdateWeight())
                        .build(),
                client.privateKey());
        assertTrue(v.validateCommit(heaviest).isAccepted());
        // a round record without bounds (a registry before 0.2) bounds nothing: refused
        ctx.add(
                RoundOpened.newBuilder(r1)
                        .setClipNorm(0)
                        .setMaxTotalWeight(0)
                        .setMaxUpdateWeight(0)
                        .setSumNormBound(0)
                        .build(),
                false);
        assertReason(ReasonCode.HEADROOM_EXCEEDED, v.validateCommit(upd.commit()));
        ctx.add(r1, false);
        UpdateCommit future = Signatures.sign(
                UpdateCommit.newBuilder(upd.commit())
                        .setCreatedAtEpochMillis(Fixtures.NOW + 3_600_000)
                        .build(),
                client.privateKey());
        assertReason(ReasonCode.CLOCK_SKEW, v.validateCommit(future));
        UpdateChunk badIndex =
                UpdateChunk.newBuilder(upd.chunks().get(0)).setChunkIndex(3).build();
        assertReason(ReasonCode.BAD_CHUNK_LAYOUT, v.validateChunk(badIndex));
    }

    @Test
    void duplicatesAndReplaysComeFromTheContext() {
        Fixtures.Ctx dupCtx = new Fixtures.Ctx() {
            @Override
            public boolean alreadyAccepted(String modelId, int round, String clientId) {
                return true;
            }
        }.add(r1, false);
        dupCtx.keys.put("alice", client.publicKey());
        assertReason(ReasonCode.DUPLICATE, new UpdateValidator(dupCtx).validateCommit(upd.commit()));
        Fixtures.Ctx replayCtx = new Fixtures.Ctx() {
            @Override
            public boolean updateIdSeen(String clientId, String updateId, String modelId, int round) {
                return true;
            }
        }.add(r1, false);
        replayCtx.keys.put("alice", client.publicKey());
        assertReason(ReasonCode.REPLAY, new UpdateValidator(replayCtx).validateCommit(upd.commit()));
    }

    @Test
    void rejectionBecomesAnUpdateRejectedRecord() throws Exception {
        ValidationResult r = ValidationResult.reject(ReasonCode.LATE, "too late");
        var rec = r.toRejected("mnist", 1, "alice", null, RecordKind.UPDATE_COMMIT, Fixtures.NOW);
        assertEquals(rec, WireCodec.DEFAULT.decode(WireCodec.DEFAULT.encode(rec), rec.getClass()));
    }
}
