# bash completion for reprimage. Generated from reprimage's command definitions by scripts/generate-man-completions.ts; do not edit.
_reprimage() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "pack disk verify-disk ls diff normalize po-changed check iuk iuk-apply lock build rebuild -V --version -h --help" -- "$cur"))
    return
  fi
  local opts=""
  case $cmd in
    pack) opts="-o --output --format --tar-format --gzip-level --no-xattrs --workers --seed --json --comp --squashfs-deflate --block-size --block-cache --no-fragments --no-duplicates --volid --publisher --application-id --bios-boot --efi-boot --hybrid-mbr --mbr-id --gpt --fat-type --label --size --inodes --reserved-percent --uuid --hash-seed --mount-options --skip-unsupported --source-date-epoch --file-list --exclude --exclude-from --empty --empty-from --owner --permissions -q --quiet -v --verbose --no-progress --color -h --help"
      case $prev in
        --tar-format) COMPREPLY=($(compgen -W "gnu pax ustar" -- "$cur")); return ;;
        --comp) COMPREPLY=($(compgen -W "gzip xz zstd lz4" -- "$cur")); return ;;
        --squashfs-deflate) COMPREPLY=($(compgen -W "libdeflate zlib" -- "$cur")); return ;;
        --fat-type) COMPREPLY=($(compgen -W "12 16 32" -- "$cur")); return ;;
        --owner) COMPREPLY=($(compgen -W "keep root" -- "$cur")); return ;;
        --permissions) COMPREPLY=($(compgen -W "keep normalize" -- "$cur")); return ;;
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    disk) opts="-o --output -p --partition --table --seed --disk-guid --disk-signature --size --align --workers --no-xattrs --format --compress --json --source-date-epoch --file-list --exclude --exclude-from --empty --empty-from --owner --permissions -q --quiet -v --verbose --no-progress --color -h --help"
      case $prev in
        --table) COMPREPLY=($(compgen -W "gpt mbr" -- "$cur")); return ;;
        --owner) COMPREPLY=($(compgen -W "keep root" -- "$cur")); return ;;
        --permissions) COMPREPLY=($(compgen -W "keep normalize" -- "$cur")); return ;;
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    verify-disk) opts="--json -q --quiet -v --verbose --no-progress --color -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    ls) opts="--json --no-xattrs -q --quiet -v --verbose --no-progress --color -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    diff) opts="--exclude --exclude-metadata --max-report-size --max-diff-lines --text --json --markdown --html --html-dir --color -q --quiet -v --verbose --no-progress -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    normalize) opts="--timestamp --no-clamp --type --check --json --workers -v --verbose -q --quiet --no-progress --color -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    po-changed) opts="--ignore-comments --json -q --quiet -v --verbose --no-progress --color -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    check) opts="--artifact --source --bisect --only --skip --json --work-dir --keep --timeout --max-report-size --no-progress -q --quiet -v --verbose --color -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    iuk) opts="-o --output --name --whiteouts --comp --workers --source-date-epoch --squashfs-path --json -q --quiet -v --verbose --no-progress --color -h --help"
      case $prev in
        --whiteouts) COMPREPLY=($(compgen -W "overlay aufs" -- "$cur")); return ;;
        --comp) COMPREPLY=($(compgen -W "gzip xz zstd lz4" -- "$cur")); return ;;
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    iuk-apply) opts="--expect --squashfs-path --json -v --verbose -q --quiet --no-progress --color -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    lock) opts="--cache --json -q --quiet -v --verbose --no-progress --color -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    build) opts="-o --output --cache --update-lock --provenance --source-date-epoch --workers --block-cache -v --verbose --json -q --quiet --no-progress --color -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
    rebuild) opts="-o --output --manifest --rebuilt --recipe --inputs --cache --allow-tool-versions --workers -v --verbose --json -q --quiet --no-progress --color -h --help"
      case $prev in
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
      esac ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -o bashdefault -F _reprimage reprimage
