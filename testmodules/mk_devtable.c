// SPDX-License-Identifier: GPL-2.0
/* modkit test module: device tables (MODULE_DEVICE_TABLE for platform, PCI
 * and OF ids, which become "alias:" lines in modinfo and entries in
 * modules.alias) and a platform driver matching "mk_dev". With add_device=1
 * it also registers such a platform device itself, so that the driver's
 * probe runs; `probes` counts probe calls. */
#include <linux/module.h>
#include <linux/mod_devicetable.h>
#include <linux/platform_device.h>
#include <linux/pci.h>

static bool add_device;
module_param(add_device, bool, 0444);
MODULE_PARM_DESC(add_device, "register a platform device \"mk_dev\" at load");
static int probes;
module_param(probes, int, 0444);
MODULE_PARM_DESC(probes, "how many times the driver's probe ran");

static const struct platform_device_id mk_platform_ids[] = {
	{ .name = "mk_dev" },
	{ .name = "mk_dev2" },
	{ }
};
MODULE_DEVICE_TABLE(platform, mk_platform_ids);

/* never matches real hardware: QEMU's own devices use 1234:1111 and 1af4:* */
static const struct pci_device_id mk_pci_ids[] = {
	{ PCI_DEVICE(0x1234, 0xfeed) },
	{ PCI_DEVICE_CLASS(0xff0000, 0xffff00) },
	{ }
};
MODULE_DEVICE_TABLE(pci, mk_pci_ids);

static const struct of_device_id mk_of_ids[] = {
	{ .compatible = "modkit,mk-dev" },
	{ }
};
MODULE_DEVICE_TABLE(of, mk_of_ids);

static int mk_probe(struct platform_device *pdev)
{
	probes++;
	dev_info(&pdev->dev, "mk_devtable: probed %s\n", pdev->name);
	return 0;
}

static struct platform_driver mk_driver = {
	.probe = mk_probe,
	.id_table = mk_platform_ids,
	.driver = {
		.name = "mk_devtable",
		.of_match_table = mk_of_ids,
	},
};

static struct platform_device *mk_pdev;

static int __init mk_devtable_init(void)
{
	int err = platform_driver_register(&mk_driver);

	if (err || !add_device)
		return err;
	mk_pdev = platform_device_register_simple("mk_dev", PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(mk_pdev)) {
		platform_driver_unregister(&mk_driver);
		return PTR_ERR(mk_pdev);
	}
	return 0;
}

static void __exit mk_devtable_exit(void)
{
	if (mk_pdev)
		platform_device_unregister(mk_pdev);
	platform_driver_unregister(&mk_driver);
}

module_init(mk_devtable_init);
module_exit(mk_devtable_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: device tables");
