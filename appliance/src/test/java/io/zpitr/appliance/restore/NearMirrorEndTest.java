// The feed's hold on archive hosts while replay is far from the end of the WAL mirror.
package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.archive.SourceUnavailableException;
import io.zpitr.archive.WalCopy;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSource;
import io.zpitr.archive.WalSpool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NearMirrorEndTest {
    @TempDir
    Path dir;

    /** A host that has nothing and counts the asks. */
    static final class CountingHost implements WalSource {
        final AtomicInteger asked = new AtomicInteger();

        @Override
        public String name() {
            return "host";
        }

        @Override
        public List<WalCopy> find(WalFileName file) {
            asked.incrementAndGet();
            return List.of();
        }

        @Override
        public void download(WalCopy copy, Path target) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {}
    }

    private static WalFileName seg(int n) {
        return WalFileName.of(String.format("0000000100000000%08X", n));
    }

    /** A restore's spool whose PostgreSQL last asked for segment {@code n}. */
    private WalSpool spoolAskedFor(int n) throws Exception {
        WalSpool spool = new WalSpool(Files.createDirectories(dir.resolve("spool")));
        spool.recordRequested(seg(n));
        return spool;
    }

    @Test
    void theMirrorsEndIsTheLastOfAnUnbrokenRun() throws Exception {
        Path mirror = Files.createDirectories(dir.resolve("mirror"));
        for (int n : new int[] {5, 6, 7, 9}) {
            Files.writeString(mirror.resolve(seg(n).name()), "x");
        }
        assertEquals(Optional.of(7L), NearMirrorEnd.mirrorEnd(mirror, seg(5)));
        assertEquals(Optional.empty(), NearMirrorEnd.mirrorEnd(mirror, seg(4)));
    }

    @Test
    void segmentsPastTheMirrorWaitUntilReplayNearsItsEnd() throws Exception {
        WalSpool spool = spoolAskedFor(0x10);
        CountingHost host = new CountingHost();
        WalSource held = NearMirrorEnd.holdBack(List.of(host), spool, 0x40).get(0);

        // Inside the mirror (a bad mirror copy) and history files: asked at once.
        held.find(seg(0x30));
        held.find(WalFileName.of("00000002.history"));
        assertEquals(2, host.asked.get());

        CompletableFuture<List<WalCopy>> past = CompletableFuture.supplyAsync(() -> {
            try {
                return held.find(seg(0x41));
            } catch (SourceUnavailableException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThrows(TimeoutException.class, () -> past.get(300, TimeUnit.MILLISECONDS), "held while replay is far");
        assertEquals(2, host.asked.get());
        spool.recordRequested(seg(0x40 - NearMirrorEnd.NEAR));
        assertEquals(List.of(), past.get(10, TimeUnit.SECONDS));
        assertEquals(3, host.asked.get());
    }

    @Test
    void closingReleasesAHeldAskAsUnavailable() throws Exception {
        WalSpool spool = spoolAskedFor(0x10);
        CountingHost host = new CountingHost();
        WalSource held = NearMirrorEnd.holdBack(List.of(host), spool, 0x40).get(0);
        CompletableFuture<String> past = CompletableFuture.supplyAsync(() -> {
            try {
                held.find(seg(0x41));
                return "answered";
            } catch (SourceUnavailableException e) {
                return "unavailable";
            }
        });
        assertThrows(TimeoutException.class, () -> past.get(200, TimeUnit.MILLISECONDS));
        held.close();
        assertEquals("unavailable", past.get(10, TimeUnit.SECONDS));
        assertEquals(0, host.asked.get());
        assertFalse(past.isCompletedExceptionally());
        assertTrue(held.authoritative());
    }
}
