package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.junit.jupiter.api.Test;

/** The current schemas must read data of release 0.1.0 and be readable by it (full compatibility). */
class SchemaCompatibilityTest {
    static final List<String> FILES = List.of(
            "common",
            "RoundOpened",
            "UpdateChunk",
            "UpdateCommit",
            "UpdateAccepted",
            "UpdateRejected",
            "ModelVersionPublished",
            "UpdateEnvelope",
            "AggregatePublished",
            "SignedTreeHead",
            "LogEntry");
    static final List<Class<? extends SpecificRecord>> RECORDS = List.of(
            RoundOpened.class,
            UpdateChunk.class,
            UpdateCommit.class,
            UpdateEnvelope.class,
            UpdateAccepted.class,
            UpdateRejected.class,
            AggregatePublished.class,
            ModelVersionPublished.class,
            SignedTreeHead.class,
            LogEntry.class);

    static Schema.Parser release(String version) throws IOException {
        Schema.Parser p = new Schema.Parser();
        for (String f : FILES) {
            try (InputStream in =
                    SchemaCompatibilityTest.class.getResourceAsStream("/schemas/" + version + "/" + f + ".avsc")) {
                assertNotNull(in, f + " missing from release " + version);
                p.parse(in);
            }
        }
        return p;
    }

    @Test
    void currentSchemasAreFullyCompatibleWithRelease010() throws IOException {
        Schema.Parser old = release("0.1.0");
        for (Class<? extends SpecificRecord> c : RECORDS) {
            Schema current = SpecificData.get().getSchema(c);
            Schema previous = old.getTypes().get(current.getFullName());
            assertNotNull(previous, current.getFullName() + " not in 0.1.0");
            assertEquals(
                    SchemaCompatibilityType.COMPATIBLE,
                    SchemaCompatibility.checkReaderWriterCompatibility(current, previous)
                            .getType(),
                    () -> "new reader, 0.1.0 writer: "
                            + SchemaCompatibility.checkReaderWriterCompatibility(current, previous)
                                    .getResult());
            assertEquals(
                    SchemaCompatibilityType.COMPATIBLE,
                    SchemaCompatibility.checkReaderWriterCompatibility(previous, current)
                            .getType(),
                    () -> "0.1.0 reader, new writer: "
                            + SchemaCompatibility.checkReaderWriterCompatibility(previous, current)
                                    .getResult());
        }
    }

    @Test
    void theCheckCatchesABreakingChange() {
        Schema current = SpecificData.get().getSchema(UpdateAccepted.class);
        String json = current.toString()
                .replace(
                        "{\"name\":\"weight\",\"type\":\"long\"}",
                        "{\"name\":\"weight\",\"type\":\"long\"},{\"name\":\"extra\",\"type\":\"string\"}");
        Schema broken = new Schema.Parser().parse(json);
        assertFalse(SchemaCompatibility.checkReaderWriterCompatibility(broken, current)
                        .getType()
                == SchemaCompatibilityType.COMPATIBLE);
    }

    /** A RoundOpened a 0.1.0 registry stored (no headroom bounds) is still readable, its bounds at their defaults. */
    @Test
    void recordsStoredByRelease010DecodeWithDefaults() throws Exception {
        Schema old =
                release("0.1.0").getTypes().get(RoundOpened.getClassSchema().getFullName());
        RoundOpened now = Fixtures.round("m", 3);
        org.apache.avro.generic.GenericRecord rec = new org.apache.avro.generic.GenericData.Record(old);
        for (Schema.Field f : old.getFields()) {
            rec.put(f.name(), org.apache.avro.specific.SpecificData.get().deepCopy(f.schema(), now.get(f.name())));
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        org.apache.avro.io.BinaryEncoder enc =
                org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
        new org.apache.avro.specific.SpecificDatumWriter<org.apache.avro.generic.GenericRecord>(old).write(rec, enc);
        enc.flush();
        byte[] bytes = out.toByteArray();
        org.junit.jupiter.api.Assertions.assertThrows(
                WireFormatException.class, () -> WireCodec.UNBOUNDED.decode(bytes, RoundOpened.class));
        RoundOpened back = WireCodec.UNBOUNDED.decodeStored(bytes, RoundOpened.class);
        assertEquals(now.getModelId(), back.getModelId());
        assertEquals(now.getChunkLayout(), back.getChunkLayout());
        assertEquals(0.0, back.getClipNorm());
        assertEquals(0L, back.getMaxTotalWeight());
        assertEquals(now, WireCodec.UNBOUNDED.decodeStored(WireCodec.UNBOUNDED.encode(now), RoundOpened.class));
    }
}
