package org.fedseal.protocol;

/** Thrown when a record to encode exceeds the codec's maximum size. */
public class RecordTooLargeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final long size;
    private final long limit;

    /** Creates the exception. */
    public RecordTooLargeException(String recordName, long size, long limit) {
        super(recordName + " encodes to " + size + " bytes, over the limit of " + limit);
        this.size = size;
        this.limit = limit;
    }

    /** Encoded size in bytes. */
    public long size() {
        return size;
    }

    /** The limit in bytes. */
    public long limit() {
        return limit;
    }
}
