#compdef reprimage
# zsh completion for reprimage. Generated from reprimage's command definitions by scripts/generate-man-completions.ts; do not edit.
_reprimage() {
  local -a commands
  commands=(
    'pack:write one image or archive from a directory, archive or image'
    'disk:write a partitioned disk image (GPT or MBR) from directories, archives and files'
    'verify-disk:check that a disk or disk image file holds a published disk image byte for byte (installer GPT relocation aside)'
    'ls:list the entries of a directory, archive or image with their metadata'
    'diff:compare two files or directories, recursively inside archives and images (exit 0 same, 1 different, 2 error)'
    'normalize:strip nondeterminism (times, owners, order, build dates) from build artifacts in place'
    'po-changed:tell whether two .po/.pot files differ in more than POT-Creation-Date and #\: line references (exit 1 if they do)'
    'check:build twice, the second time under varied environments, and compare the artifacts (exit 0 reproducible, 1 not, 2 error)'
    'iuk:write an incremental upgrade kit that turns build OLD into build NEW (live ISOs, root file systems, or the manifest.json of reprimage build; docs/iuk.md)'
    'iuk-apply:stack an upgrade kit onto OLD in memory; with --expect NEW, exit 0 if the result equals NEW, 1 if not'
    'lock:pin the InRelease files and every package of a recipe in RECIPE.lock (verified first)'
    'build:build a recipe\: verify its locked inputs, make the root tree with mmdebstrap, write the outputs and manifest.json'
    'rebuild:rebuild a published image from its manifest and compare (exit 0 reproduced, 1 differs, 2 cannot rebuild or bad input)'
  )
  if (( CURRENT == 2 )); then
    _describe -t commands command commands
    return
  fi
  local cmd=${words[2]}
  shift words
  (( CURRENT-- ))
  case $cmd in
    pack)
      _arguments -s \
        '(-o --output)'{-o,--output}'[the image to write ('\''-'\'' for standard output, with --format)]:file:_files' \
        '--format[output format (tar, tar.gz, tar.xz, tar.zst, cpio, cpio.gz, cpio.xz, cpio.zst, squashfs, iso, fat, ext4); default\: from the output name]:format:_files' \
        '--tar-format[tar header flavour]:gnu|pax|ustar:(gnu pax ustar)' \
        '--gzip-level[deflate level of .gz outputs]:1-9:_files' \
        '--no-xattrs[do not read extended attributes from a source directory]' \
        '--workers[parallel workers (never changes the output bytes)]:n:_files' \
        '--seed[seed of derived identifiers (default\: reprimage\:SOURCE_DATE_EPOCH)]:text:_files' \
        '--json[print a JSON summary of what was written (schema reprimage-pack/1, docs/json.md)]' \
        '--comp[SquashFS compressor]:gzip|xz|zstd|lz4:(gzip xz zstd lz4)' \
        '--squashfs-deflate[SquashFS gzip\: libdeflate (default, fast) or zlib (slower; mksquashfs'\''s exact bytes)]:libdeflate|zlib:(libdeflate zlib)' \
        '--block-size[SquashFS block size\: 4K to 1M, a power of two (default 128K); ext4\: 1024 or 4096 (default 4096)]:bytes:_files' \
        '--block-cache[SquashFS\: reuse compressed blocks stored in DIR and store new ones (same bytes as without; off by default)]:dir:_files' \
        '--no-fragments[SquashFS\: no fragment blocks (like mksquashfs -no-fragments)]' \
        '--no-duplicates[SquashFS\: store identical files each time]' \
        '--volid[ISO volume id]:id:_files' \
        '--publisher[ISO publisher id]:text:_files' \
        '--application-id[ISO application id]:text:_files' \
        '--bios-boot[ISO\: El Torito BIOS no-emulation boot image (a path inside SRC, e.g. isolinux/isolinux.bin)]:path:_files' \
        '--efi-boot[ISO\: El Torito UEFI boot image (a FAT image inside SRC)]:path:_files' \
        '--hybrid-mbr[ISO\: isohybrid MBR boot code (e.g. /usr/lib/ISOLINUX/isohdpfx.bin); needs --bios-boot]:file:_files' \
        '--mbr-id[ISO\: MBR disk signature, decimal or 0x hexadecimal (default\: derived from the seed)]:n:_files' \
        '--gpt[ISO\: add a GPT for UEFI USB boot (GUIDs derived from the seed)]' \
        '--fat-type[FAT\: the FAT type (default\: chosen by size, as mkfs.fat does)]:12|16|32:(12 16 32)' \
        '--label[FAT, ext4\: the volume label]:text:_files' \
        '--size[FAT, ext4\: the image size (default\: the tree plus headroom)]:bytes:_files' \
        '--inodes[ext4\: the inode count (default\: one per 16 KiB, at least the tree plus 10 %)]:n:_files' \
        '--reserved-percent[ext4\: blocks reserved for root, in percent (default 5)]:n:_files' \
        '--uuid[ext4\: the file system UUID (default\: derived from the seed)]:uuid:_files' \
        '--hash-seed[ext4\: the directory hash seed (default\: derived from the seed)]:uuid:_files' \
        '--mount-options[ext4\: default mount options stored in the superblock]:text:_files' \
        '--skip-unsupported[FAT\: leave out symlinks, devices, fifos and sockets with a warning instead of failing]' \
        '--source-date-epoch[the build time\: mtimes are clamped to it (default\: $SOURCE_DATE_EPOCH)]:seconds:_files' \
        '*--file-list[add or override entries with a file list (see docs/file-list.md); repeatable]:file:_files' \
        '*--exclude[leave out entries matching the pattern; repeatable]:glob:_files' \
        '*--exclude-from[leave out entries matching the patterns in FILE, one per line]:file:_files' \
        '*--empty[keep matching files but make them empty; repeatable]:glob:_files' \
        '*--empty-from[make the files matching the patterns in FILE empty]:file:_files' \
        '--owner[keep numeric owners, or make everything root\:root]:keep|root:(keep root)' \
        '--permissions[keep modes, or normalize them (docs/metadata-policy.md)]:keep|normalize:(keep normalize)' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '(-v --verbose)'{-v,--verbose}'[print more\: each stage in detail, stacks of internal errors]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    disk)
      _arguments -s \
        '(-o --output)'{-o,--output}'[the disk image to write]:file:_files' \
        '*(-p --partition)'{-p,--partition}'[TYPE\[\:FORMAT\]\[\:KEY=VALUE\]…\[=SOURCE\], in disk order; repeatable (see docs/formats/gpt.md)]:spec:_files' \
        '--table[the partition table]:gpt|mbr:(gpt mbr)' \
        '--seed[seed of the disk GUID, partition UUIDs and file-system identifiers (default\: reprimage\:SOURCE_DATE_EPOCH)]:text:_files' \
        '--disk-guid[GPT disk GUID (default\: derived from the seed)]:guid:_files' \
        '--disk-signature[MBR disk signature, e.g. 0x1234abcd (default\: derived from the seed)]:n:_files' \
        '--size[whole disk size, e.g. 2G (default\: the partitions plus the backup GPT)]:bytes:_files' \
        '--align[partition alignment]:bytes:_files' \
        '--workers[parallel workers (never changes the output bytes)]:n:_files' \
        '--no-xattrs[do not read extended attributes from source directories]' \
        '--format[raw, qcow2, vhd (fixed, as Azure takes it), vhd-dynamic, vmdk (streamOptimized), ova or gce (default\: from the output name\: .img .qcow2 .vhd .vmdk .ova .tar.gz; else raw)]:format:_files' \
        '--compress[qcow2\: deflate the clusters (as qemu-img convert -c)]' \
        '--json[print what was written as JSON]' \
        '--source-date-epoch[the build time\: mtimes are clamped to it (default\: $SOURCE_DATE_EPOCH)]:seconds:_files' \
        '*--file-list[add or override entries with a file list (see docs/file-list.md); repeatable]:file:_files' \
        '*--exclude[leave out entries matching the pattern; repeatable]:glob:_files' \
        '*--exclude-from[leave out entries matching the patterns in FILE, one per line]:file:_files' \
        '*--empty[keep matching files but make them empty; repeatable]:glob:_files' \
        '*--empty-from[make the files matching the patterns in FILE empty]:file:_files' \
        '--owner[keep numeric owners, or make everything root\:root]:keep|root:(keep root)' \
        '--permissions[keep modes, or normalize them (docs/metadata-policy.md)]:keep|normalize:(keep normalize)' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '(-v --verbose)'{-v,--verbose}'[print more\: each stage in detail, stacks of internal errors]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    verify-disk)
      _arguments -s \
        '--json[print the result as JSON (schema reprimage-verify-disk/1)]' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '(-v --verbose)'{-v,--verbose}'[print more\: each stage in detail, stacks of internal errors]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    ls)
      _arguments -s \
        '--json[print the entries as JSON (schema reprimage-ls/1, docs/json.md)]' \
        '--no-xattrs[do not read extended attributes from a source directory]' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '(-v --verbose)'{-v,--verbose}'[print more\: each stage in detail, stacks of internal errors]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    diff)
      _arguments -s \
        '*--exclude[leave out members whose path matches (repeatable)]:glob:_files' \
        '--exclude-metadata[metadata not compared, comma-separated\: type,mode,owner,mtime,xattrs,target,device,size,links,format]:list:_files' \
        '--max-report-size[cut text, Markdown and HTML reports at this size]:bytes:_files' \
        '--max-diff-lines[lines kept per unified diff]:n:_files' \
        '--text[text report to FILE ('\''-'\'' for standard output, the default when no report is named)]:file:_files' \
        '--json[JSON report in diffoscope'\''s structure (docs/diff.md); '\''-'\'' for standard output]:file:_files' \
        '--markdown[Markdown report; '\''-'\'' for standard output]:file:_files' \
        '--html[one self-contained HTML page with a collapsible tree of differences; '\''-'\'' for standard output]:file:_files' \
        '--html-dir[HTML report split into pages loaded on demand, for large reports]:dir:_files' \
        '--color[colour the text report and messages\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '(-v --verbose)'{-v,--verbose}'[print more\: each stage in detail, stacks of internal errors]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    normalize)
      _arguments -s \
        '--timestamp[the reference time (default\: $SOURCE_DATE_EPOCH)]:seconds:_files' \
        '--no-clamp[set every time to --timestamp (as strip-nondeterminism does) instead of only lowering later ones]' \
        '--type[use this handler for every file instead of detecting by content (zip, jar, gzip, png, ar, gettext-po, gettext-mo, pom-properties, javadoc, pyc, tar, cpio)]:type:_files' \
        '--check[change nothing; list the files that would change and exit 1 if there are any]' \
        '--json[print a JSON report of every file (schema reprimage-normalize/1, docs/json.md)]' \
        '--workers[parallel workers (never changes the output bytes)]:n:_files' \
        '(-v --verbose)'{-v,--verbose}'[print every file that is changed]' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    po-changed)
      _arguments -s \
        '--ignore-comments[ignore every comment line, not only #\: references]' \
        '--json[print the result as JSON]' \
        '(-q --quiet)'{-q,--quiet}'[print nothing; only the exit status tells]' \
        '(-v --verbose)'{-v,--verbose}'[print more\: each stage in detail, stacks of internal errors]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    check)
      _arguments -s \
        '*--artifact[an artifact the command makes, relative to the build directory (repeatable)]:path:_files' \
        '--source[a directory copied into each fresh build directory before the command runs]:dir:_files' \
        '--bisect[when the artifacts differ, rebuild with subsets of the variations to find the cause]' \
        '--only[vary only these (comma-separated ids; see docs/check.md)]:list:_files' \
        '--skip[do not vary these]:list:_files' \
        '--json[print the report as JSON (schema reprimage-check/1, docs/json.md)]' \
        '--work-dir[where the builds run (default\: a new temporary directory)]:dir:_files' \
        '--keep[keep the work directory (logs, artifacts of every build) and say where it is]' \
        '--timeout[stop a build that runs longer]:seconds:_files' \
        '--max-report-size[cut each difference report at this size]:bytes:_files' \
        '--no-progress[do not print which build is running (printed on a terminal, or with --verbose)]' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '(-v --verbose)'{-v,--verbose}'[print more\: each stage in detail, stacks of internal errors]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    iuk)
      _arguments -s \
        '(-o --output)'{-o,--output}'[the kit to write (a tar archive)]:kit:_files' \
        '--name[the delta is live/<name>.squashfs]:name:_files' \
        '--whiteouts[how removed entries are marked in the delta]:overlay|aufs:(overlay aufs)' \
        '--comp[the delta'\''s SquashFS compressor]:gzip|xz|zstd|lz4:(gzip xz zstd lz4)' \
        '--workers[compression workers (never changes the output bytes)]:n:_files' \
        '--source-date-epoch[times are clamped to it (default\: $SOURCE_DATE_EPOCH, else the newest mtime of NEW)]:seconds:_files' \
        '--squashfs-path[where the root file system sits in an ISO build]:path:_files' \
        '--json[print a JSON summary of the kit]' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '(-v --verbose)'{-v,--verbose}'[print more\: each stage in detail, stacks of internal errors]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    iuk-apply)
      _arguments -s \
        '--expect[the build the result must equal]:new:_files' \
        '--squashfs-path[where the root file system sits in an ISO build]:path:_files' \
        '--json[print a JSON report]' \
        '(-v --verbose)'{-v,--verbose}'[with --expect\: print the whole difference report, not only the paths]' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    lock)
      _arguments -s \
        '--cache[download cache (default\: $XDG_CACHE_HOME/reprimage or ~/.cache/reprimage)]:dir:_files' \
        '--json[print a JSON summary]' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '(-v --verbose)'{-v,--verbose}'[print more\: each stage in detail, stacks of internal errors]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    build)
      _arguments -s \
        '(-o --output)'{-o,--output}'[directory for the outputs and manifest.json]:dir:_files' \
        '--cache[download cache (default\: $XDG_CACHE_HOME/reprimage or ~/.cache/reprimage)]:dir:_files' \
        '--update-lock[lock the recipe first when it has no lock file or the lock is out of date]' \
        '--provenance[also write provenance.intoto.json (in-toto statement, SLSA provenance predicate)]' \
        '--source-date-epoch[override the recipe'\''s source_date_epoch]:seconds:_files' \
        '--workers[parallel workers (never changes the output bytes)]:n:_files' \
        '--block-cache[reuse compressed SquashFS blocks stored in DIR and store new ones (never changes the output bytes; off by default)]:dir:_files' \
        '(-v --verbose)'{-v,--verbose}'[show mmdebstrap'\''s progress]' \
        '--json[print the manifest on standard output]' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
    rebuild)
      _arguments -s \
        '(-o --output)'{-o,--output}'[work directory\: downloads, the rebuild, diff.txt/diff.json, rebuild.json, rebuild.intoto.json]:dir:_files' \
        '--manifest[the build manifest (path or URL), when it is not beside the image]:manifest:_files' \
        '--rebuilt[compare with this image, rebuilt before, instead of building again]:file:_files' \
        '--recipe[a directory with the recipe and its inputs (a checkout of the release), instead of the manifest'\''s inputs bundle]:dir:_files' \
        '--inputs[the inputs bundle (path or URL), when it is not beside the manifest]:bundle:_files' \
        '--cache[download cache (default\: $XDG_CACHE_HOME/reprimage or ~/.cache/reprimage)]:dir:_files' \
        '--allow-tool-versions[rebuild with other versions of mmdebstrap, apt and dpkg than the recorded ones (noted in the report)]' \
        '--workers[parallel workers (never changes the output bytes)]:n:_files' \
        '(-v --verbose)'{-v,--verbose}'[show the build'\''s progress]' \
        '--json[print the report (rebuild.json) instead of the text]' \
        '(-q --quiet)'{-q,--quiet}'[print no warnings, stages or progress]' \
        '--no-progress[draw no progress bar (bars are drawn on a terminal only)]' \
        '--color[colour\: auto (on a terminal, unless NO_COLOR is set), always, never]:when:(auto always never)' \
        '(-h --help)'{-h,--help}'[print the help of the command]' \
        '*:file:_files' ;;
  esac
}
if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
  _reprimage "$@"
else
  compdef _reprimage reprimage
fi
