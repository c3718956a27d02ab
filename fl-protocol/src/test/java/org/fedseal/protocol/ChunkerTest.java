package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.junit.jupiter.api.Test;

class ChunkerTest {
    @Test
    void realisticCiphertextsStayUnderOneMebibyte() {
        for (int size : new int[] {128 * 1024, 200 * 1024, 260 * 1024}) {
            List<byte[]> cts = Fixtures.ciphertexts(10, size, size);
            ChunkLayout l = Chunker.layoutFor(cts, 10L * 4096 - 7, 4096, Chunker.DEFAULT_MAX_RECORD_BYTES);
            assertTrue(Chunker.isConsistent(l));
            List<UpdateChunk> chunks = Chunker.split("c", "m", 1, "u", cts, l, Chunker.DEFAULT_MAX_RECORD_BYTES);
            assertEquals(l.getChunkCount(), chunks.size());
            for (UpdateChunk c : chunks) {
                assertTrue(WireCodec.encodedSize(new UpdateEnvelope(c)) + Chunker.KAFKA_OVERHEAD_BYTES
                        <= Chunker.DEFAULT_MAX_RECORD_BYTES);
                assertEquals(
                        Chunker.ciphertextsInChunk(l, c.getChunkIndex()),
                        c.getCiphertexts().size());
            }
            List<byte[]> back = Chunker.reassemble(chunks);
            for (int i = 0; i < cts.size(); i++) {
                assertTrue(java.util.Arrays.equals(cts.get(i), back.get(i)));
            }
        }
        assertEquals(3, Chunker.ciphertextsPerChunk(260 * 1024, Chunker.DEFAULT_MAX_RECORD_BYTES));
        assertEquals(7, Chunker.ciphertextsPerChunk(128 * 1024, Chunker.DEFAULT_MAX_RECORD_BYTES));
    }

    @Test
    void refusesWhatDoesNotFit() {
        assertThrows(
                IllegalArgumentException.class,
                () -> Chunker.ciphertextsPerChunk(2 << 20, Chunker.DEFAULT_MAX_RECORD_BYTES));
        ChunkLayout l = Chunker.layout(8192, 4096, 2);
        assertThrows(
                RecordTooLargeException.class,
                () -> Chunker.split(
                        "c", "m", 1, "u", Fixtures.ciphertexts(2, 600_000, 1), l, Chunker.DEFAULT_MAX_RECORD_BYTES));
        assertThrows(
                IllegalArgumentException.class,
                () -> Chunker.split(
                        "c", "m", 1, "u", Fixtures.ciphertexts(3, 10, 1), l, Chunker.DEFAULT_MAX_RECORD_BYTES));
    }
}
