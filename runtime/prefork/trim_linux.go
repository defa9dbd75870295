package prefork

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// dropProgramPages unmaps from the master the pages of its program's code and
// read-only data that it touched while starting: the site's package
// initialisation and construction, which the master ran only because the
// same binary is also the worker. Its supervising loop faults back the few
// it needs. The pages stay in the page cache, where the workers share them;
// what changes is that the master no longer keeps the whole program
// resident (about 9 MiB of a generated project's 10 MiB), and that after a
// SIGHUP to a rebuilt binary it does not keep the old build's pages mapped
// on its own. Clean, read-only file pages are what the kernel itself drops
// under memory pressure, so dropping them is always safe; a running
// program's file cannot be written (ETXTBSY), so they fault back unchanged.
// Writable mappings (the data segment, the heap) are never touched.
func dropProgramPages() error {
	var self syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &self); err != nil {
		return fmt.Errorf("prefork: finding this program's mappings: %w", err)
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return fmt.Errorf("prefork: finding this program's mappings: %w", err)
	}
	defer f.Close()
	type span struct{ start, end uintptr }
	var spans []span
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-00834000 r-xp 00000000 08:01 1234 /srv/mysite/mysite
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || strings.ContainsRune(fields[1], 'w') || fields[1][0] != 'r' {
			continue
		}
		if inode, err := strconv.ParseUint(fields[4], 10, 64); err != nil || inode != self.Ino || !sameDev(fields[3], uint64(self.Dev)) {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			continue
		}
		spans = append(spans, span{uintptr(start), uintptr(end)})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("prefork: reading /proc/self/maps: %w", err)
	}
	for _, s := range spans {
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, s.start, s.end-s.start, syscall.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("prefork: dropping the program's pages at %#x: %w", s.start, errno)
		}
	}
	return nil
}

// sameDev reports whether maps' "major:minor" (hex) names the device dev
// (Linux's encoding of a dev_t).
func sameDev(field string, dev uint64) bool {
	maj, mnr, ok := strings.Cut(field, ":")
	a, err1 := strconv.ParseUint(maj, 16, 32)
	b, err2 := strconv.ParseUint(mnr, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return false
	}
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	return a == major && b == minor
}
