// The kernel command line a Raspberry Pi gets as `<serial>/cmdline.txt` over TFTP, rendered per
// machine in the template sandbox (boot/template) from its run's vars, so each Pi's root can
// differ: an NBD export of its own (root=/dev/nbd0p2 nbdroot=…), an NFS root, or its SD card.
// `vars.pi_cmdline` replaces the whole line. The firmware reads one line: the result is joined
// into one (lib/pi/pi-tftp.ts).
export const PI_CMDLINE_TEMPLATE = `{% if vars.pi_cmdline is defined %}{{ vars.pi_cmdline }}{% else %}
{{ vars.console|default('console=serial0,115200 console=tty1') }}
{% if vars.nbd_server is defined %}root=/dev/nbd0p{{ vars.nbd_partition|default(2) }} nbdroot={{ vars.nbd_server }}{% if vars.nbd_export is defined %}/{{ vars.nbd_export }}{% endif %} ip=dhcp
{% elif vars.nfs_root is defined %}root=/dev/nfs nfsroot={{ vars.nfs_root }},vers=3,tcp ip=dhcp
{% else %}root=/dev/mmcblk0p2
{% endif %}
rootwait {{ vars.kernel_args|default('') }} kiln.host={{ host.name }}{% if image %} kiln.image={{ image.name|replace(' ', '_') }}:{{ image.version }}{% endif %}
{% endif %}`;
