// One copy of a WAL file found on a source.
package io.zpitr.archive;

/**
 * A copy of a WAL file on one source.
 *
 * @param source   the source's configured name
 * @param location where on the source, e.g. {@code /data04/pgdata/arch/20261120/000000010000000000000003}
 * @param size     its size in bytes as the source reported it, or -1 if unknown
 */
public record WalCopy(String source, String location, long size) {}
